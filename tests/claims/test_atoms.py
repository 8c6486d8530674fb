"""Atoms: a claim sentence split into the propositions a verdict checks one by one (real spaCy parse)."""

from __future__ import annotations

from corroborate.claims.atoms import APPOSITIVE, CONJUNCT, MAIN, PROVENANCE, QUALIFIER, RELATIVE, Atom, split_atoms
from corroborate.claims.sentences import split_claims


def _atoms(text: str) -> list[Atom]:
    sentences = [s for s in split_claims(text) if s.is_claim]
    assert len(sentences) == 1, sentences
    return split_atoms(sentences[0])


def _kinds(atoms: list[Atom]) -> dict[str, list[Atom]]:
    out: dict[str, list[Atom]] = {}
    for a in atoms:
        out.setdefault(a.kind, []).append(a)
    return out


def test_simple_sentence_is_one_atom() -> None:
    atoms = _atoms("The city council approved the new bridge over the Lenna river.")
    assert [(a.kind, a.checkable, a.distinctive) for a in atoms] == [(MAIN, True, True)]
    assert atoms[0].text == "The city council approved the new bridge over the Lenna river."


def test_time_qualifier_is_its_own_atom_and_carries_the_claim() -> None:
    atoms = _kinds(_atoms("The Harbour Authority of Velm approved a 20 million crown budget on Monday."))
    (main,) = atoms[MAIN]
    (qual,) = atoms[QUALIFIER]
    assert "Monday" not in main.text and "approved a 20 million crown budget" in main.text
    assert qual.text.endswith("on Monday.")
    # the qualified atom states the main clause too, so it is the one that must be corroborated
    assert qual.distinctive and not main.distinctive and main.checkable


def test_provenance_and_framing_of_a_compound_sentence() -> None:
    atoms = _atoms(
        "The minister's declaration, first reported by Orvik Radio and confirmed through privileged access to "
        "cabinet briefings, marks a stark departure from earlier policy."
    )
    kinds = _kinds(atoms)
    (main,) = kinds[MAIN]
    assert not main.checkable and main.reason == "framing"
    provenance = {a.text: a for a in kinds[PROVENANCE]}
    first = next(a for t, a in provenance.items() if "first reported by Orvik Radio" in t)
    assert first.attribution.kind == "named" and first.attribution.source == "Orvik Radio"
    assert any("confirmed through privileged access to cabinet briefings" in t for t in provenance)
    assert all(a.checkable for a in kinds[PROVENANCE])


def test_appositive_with_relative_clause_states_what_it_says_of_its_anchor() -> None:
    atoms = _kinds(_atoms(
        "The mayor's refusal to close the old ferry, a decision that has angered harbour workers, "
        "came after a two-hour meeting."
    ))
    (app,) = atoms[APPOSITIVE]
    assert app.text.startswith("The mayor's refusal") and app.text.endswith("has angered harbour workers")
    assert "angered" not in atoms[MAIN][0].text


def test_relative_clause_and_conjunct() -> None:
    atoms = _kinds(_atoms(
        "Governor Ilse Marrow, who was re-elected in March, signed the water bill and has ordered an audit "
        "of the utility."
    ))
    assert any(a.text.startswith("Governor Ilse Marrow was re-elected in March") for a in atoms[RELATIVE])
    assert any(a.text.startswith("Governor Ilse Marrow has ordered an audit") for a in atoms[CONJUNCT])
    assert "re-elected" not in atoms[MAIN][0].text


def test_names_and_content_clauses_are_not_split() -> None:
    atoms = _atoms("The old quay was built by the engineer Tomas Wrenfield.")
    assert [a.kind for a in atoms] == [MAIN]
    atoms = _atoms("The minister's statement that no soldiers will be sent to Norland was welcomed by the opposition.")
    assert not [a for a in atoms if a.kind in (RELATIVE, PROVENANCE)], atoms


def test_framing_verbs_and_anonymous_attribution() -> None:
    atoms = _atoms("The refusal is framed by his inner circle as a deliberate effort to avoid escalation.")
    assert atoms[0].kind == MAIN and not atoms[0].checkable and atoms[0].reason == "framing"
    atoms = _atoms("Sources close to the ministry said a shipping consortium had offered to pay half of the cost.")
    assert atoms[0].checkable and atoms[0].anonymous


def test_event_appositive_is_said_of_the_whole_clause() -> None:
    # the parser hangs "a move" on the toll (or the verb); the writer says it of the rise
    atoms = _kinds(_atoms("The council raised the bridge toll by half on Monday, a move that angered local traders."))
    assert all("move" not in a.text and "angered" not in a.text for a in atoms[MAIN] + atoms[QUALIFIER])
    (app,) = atoms[APPOSITIVE]
    assert app.text == "The council raised the bridge toll by half on Monday, which angered local traders"
    assert app.checkable and app.distinctive
    atoms = _kinds(_atoms("The bank cut its main rate to 2 percent, a decision that surprised most economists."))
    assert [a.text for a in atoms[APPOSITIVE]] == [
        "The bank cut its main rate to 2 percent, which surprised most economists"]
    # before the main verb the apposition is said of its noun, as before
    atoms = _kinds(_atoms("The mayor's refusal to close the old ferry, a decision that has angered harbour workers, "
                          "came after a two-hour meeting."))
    assert [a.text for a in atoms[APPOSITIVE]] == [
        "The mayor's refusal to close the old ferry has angered harbour workers"]


def test_a_speaker_carried_from_the_sentence_before_covers_every_atom() -> None:
    quote = [s for s in split_claims(
        "\u2018The harbour deal was a mistake,\u2019 one anonymous official said. "
        "\u2018It emptied the treasury and gave the guilds a reason to strike.\u2019"
    ) if s.is_claim][1]
    atoms = split_atoms(quote)
    assert any(a.kind == CONJUNCT and "gave the guilds a reason to strike" in a.text for a in atoms)
    assert not [a for a in atoms if a.kind == RELATIVE], atoms  # "a reason to strike" is no clause
    # the conjunct is the official's words too: no report of the strike threat alone corroborates it
    assert all(a.anonymous and a.attribution.source == "one anonymous official" for a in atoms)


def test_the_source_is_found_whatever_the_tokenizer_does_with_it() -> None:
    # "top-secret" is three tokens: the memo is still the source named inside the participle
    kinds = _kinds(_atoms("The plan, outlined in a top-secret memo seen by a few reporters, envisions a toll on the "
                          "Lenna bridge."))
    (prov,) = kinds[PROVENANCE]
    assert prov.anonymous and prov.attribution.source == "a top-secret memo seen by a few reporters"
    (main,) = kinds[MAIN]
    assert main.text == "The plan envisions a toll on the Lenna bridge." and main.attribution.kind == "none"


def test_who_clause_is_said_of_the_people_it_follows() -> None:
    atoms = _kinds(_atoms("The proposal has found support among some members of the Velm council, who have privately "
                          "raised concerns about its cost."))
    (rel,) = atoms[RELATIVE]
    assert rel.text.startswith("Some members of the Velm council have privately raised concerns"), rel.text


def test_a_headline_tag_in_brackets_is_no_apposition() -> None:
    atoms = _atoms("Ilse Marrow Exits the Velm Harbour Film (Exclusive)")
    assert [(a.kind, a.checkable, a.text) for a in atoms] == [
        (MAIN, True, "Ilse Marrow Exits the Velm Harbour Film (Exclusive)")]
    assert _atoms("eBay is planning a Velm Watch app")[0].text.startswith("eBay")  # a brand keeps its case
    # a cut never leaves a bracket behind
    cut = _atoms("Vice Media CEO Ilse Marrow Spent $300,000 on Las Vegas Dinner (Report)")
    assert any(a.kind == QUALIFIER for a in cut), cut
    assert all(a.text.count("(") == a.text.count(")") for a in cut), cut


def test_the_source_is_matched_as_whole_words() -> None:
    from corroborate.claims.atoms import _cue_ids, load_nlp
    from corroborate.claims.sentences import Attribution

    doc = load_nlp()("The bridge, which the council built, will close, he said.")
    (found,) = _cue_ids(doc[:], Attribution("He", "named", "said"))
    assert doc[found].text == "he"  # not the "he" inside "The" or "the"


def test_what_the_writer_says_of_the_framed_thing_or_of_the_speaker_is_not_the_speakers() -> None:
    # the inner circle frames the refusal; that it baffled the generals is the writer's claim
    atoms = _kinds(_atoms(
        "The mayor's refusal to close the ferry, a decision that has baffled harbour engineers, is framed by his "
        "inner circle as a careful effort to create a \u2018quiet zone\u2019 where talks can proceed."
    ))
    (main,) = atoms[MAIN]
    assert not main.checkable and main.anonymous
    assert "where talks can proceed" in main.text  # "a zone where talks can proceed" is no claim of its own
    assert RELATIVE not in atoms, atoms
    (app,) = atoms[APPOSITIVE]
    assert app.text == "The mayor's refusal to close the ferry has baffled harbour engineers"
    assert app.checkable and app.attribution.kind == "none"
    # so is a description of the speaker
    atoms = _kinds(_atoms("Ilse Marrow, who was sacked as harbour master in May, said the quay would close."))
    (rel,) = atoms[RELATIVE]
    assert rel.text.startswith("Ilse Marrow was sacked") and rel.attribution.kind == "none"
    assert atoms[MAIN][0].attribution.source == "Ilse Marrow"


def test_a_source_named_in_a_participle_covers_only_that_participle() -> None:
    atoms = _kinds(_atoms(
        "The minister's pledge, first reported by Orvik Radio, marks a shift in policy and has sent shockwaves "
        "through the Velm guilds."
    ))
    (prov,) = atoms[PROVENANCE]
    assert prov.attribution.source == "Orvik Radio"
    assert all(a.attribution.kind == "none" for k in (MAIN, CONJUNCT) for a in atoms[k]), atoms


def test_an_event_apposition_to_a_reported_clause_is_said_of_what_was_reported() -> None:
    atoms = _kinds(_atoms(
        "The harbour office has confirmed that the Velm ferry will stop running in March\u2014a move that has "
        "already drawn protests from traders."
    ))
    (app,) = atoms[APPOSITIVE]
    assert app.text == "The Velm ferry will stop running in March, which has already drawn protests from traders"
    assert app.attribution.kind == "none"  # the protests are the writer's to report, not the office's
    assert atoms[MAIN][0].attribution.kind == "named"
    # a reported clause whose subject is a pronoun needs the whole sentence to be read
    atoms = _kinds(_atoms("The harbour office said on Monday it would raise the ferry fare, a move that angered "
                          "traders."))
    (app,) = atoms[APPOSITIVE]
    assert app.text.startswith("The harbour office said on Monday it would raise the ferry fare, which angered"), app
    # only a reported clause loses its "that": a sentence's own "While …" stays
    atoms = _kinds(_atoms("While the vote was close, the council raised the bridge toll, a move that angered traders."))
    assert [a.text for a in atoms[APPOSITIVE]] == [
        "While the vote was close, the council raised the bridge toll, which angered traders"]


def test_quotation_marks_cut_from_their_partner_are_dropped() -> None:
    from corroborate.claims.atoms import _quotes_balanced

    atoms = _atoms("Marrow praised the council\u2019s \u2018steady hand\u2019 and reiterated her pledge to "
                   "\u2018keep the ferry running for good.\u2019")
    assert [a.text for a in atoms] == [
        "Marrow praised the council\u2019s \u2018steady hand\u2019.",
        "Marrow reiterated her pledge to keep the ferry running for good",
    ]
    assert _quotes_balanced("the guilds\u2019 hall said \u2018no\u2019") == "the guilds\u2019 hall said \u2018no\u2019"
    assert _quotes_balanced("Don\u2019t \u2018Reset All\u2019 now") == "Don\u2019t \u2018Reset All\u2019 now"
    assert _quotes_balanced("Says \u2018At Least 10\u2032 Fighters") == "Says \u2018At Least 10\u2032 Fighters"


def test_a_participle_keeps_its_inner_conjunctions() -> None:
    # only a part's own leading "and" goes ("… and confirmed through …"); "A and B", "rather than" stay
    atoms = _kinds(_atoms("The Velm talks, facilitated by trusted advisors and former diplomats, began in May."))
    assert any("facilitated by trusted advisors and former diplomats" in a.text for a in atoms[PROVENANCE]), atoms
    kinds = _kinds(_atoms(
        "The minister's declaration, first reported by Orvik Radio and confirmed through privileged access to "
        "cabinet briefings, marks a stark departure from earlier policy."
    ))
    assert all(not a.text.split(" was ", 1)[1].startswith("and") for a in kinds[PROVENANCE]), kinds[PROVENANCE]
