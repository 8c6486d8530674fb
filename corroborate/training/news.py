"""Invented news facts told, denied, changed and merely discussed: training pairs of the kind news brings.

SNLI teaches what a sentence entails about a photo caption; CANNOT negates single Wikipedia
sentences. Neither has the ways news says *no*: a death hoax debunked ("… is alive, her agent said"),
"will not" and "called off", a changed figure or day, "denied that", "reports … are false", a
correction, an antonym ("rejected" for "approved"). Nor the ways it says *yes* without the claim's
words (passive voice, a dateline, an official who announced it), or *maybe* (rumours, "is
considering", "could not be confirmed"), which are neither.

Every pair here is generated from a random fact (invented people, towns, firms; a fixed vocabulary
in this file, copied from no dataset): the claim states the fact, the evidence sentence states it,
denies it or changes one of its details, or only talks about it. A fact's pairs share a group, and
the split is by that group. The news denial set in tests/data/denials.tsv is written separately and
is never read here.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator

from corroborate.training.pair import Pair, split_of

_FIRST = (
    "Alma", "Bruno", "Cecile", "Dario", "Elin", "Fabian", "Greta", "Hugo", "Ines", "Jonas", "Kira", "Lukas",
    "Mirela", "Nils", "Odile", "Pavel", "Quinn", "Rosa", "Stefan", "Tilda", "Ugo", "Vera", "Wim", "Xenia",
    "Yusuf", "Zora", "Anouk", "Bram", "Carys", "Dmitri", "Esme", "Farid", "Gwen", "Hakon", "Ilse", "Joaquin",
    "Katell", "Leandro", "Maud", "Nuno", "Olek", "Priya", "Rafe", "Saskia", "Teodor", "Una", "Viggo", "Wren",
)
_LAST = (
    "Abernathy", "Brockvale", "Castellane", "Dunmore", "Eskildsen", "Farrant", "Galloway", "Hestermann",
    "Ivanic", "Jorvik", "Kallstrom", "Lindqvist", "Marchetti", "Novakova", "Okonkwo", "Pellegrin", "Quarrie",
    "Ravensworth", "Saarinen", "Thorvald", "Umberg", "Vasquez", "Wexford", "Yardley", "Zelinski", "Aldous",
    "Bramhall", "Corvino", "Delacroix", "Ellery", "Fenwick", "Grimaldi", "Holloway", "Ingram", "Jessop",
)
_PLACES = (
    "Aldergate", "Brimsford", "Carrowmore", "Dellport", "Eastwick", "Fallowmere", "Glenharrow", "Hollin",
    "Istavo", "Jarrowby", "Kessling", "Lowmarsh", "Merriton", "Northam Vale", "Oskarby", "Pellham", "Quayle",
    "Redwater", "Stannick", "Tollbridge", "Upperdeen", "Varnholt", "Westerley", "Yarlow",
)
_FIRMS = (
    "Halvard Motors", "Brightline Foods", "Corrigan Steel", "Dovetail Media", "Ember Airways", "Fjordia Bank",
    "Granite Telecom", "Harrow Pharma", "Ironleaf Energy", "Juniper Rail", "Kestrel Games", "Lumen Retail",
    "Meridian Shipping", "Northwind Insurance", "Orchard Labs", "Pioneer Cement",
)
_ROLES = (
    ("singer", "she"), ("actor", "he"), ("actress", "she"), ("footballer", "he"), ("novelist", "she"),
    ("former minister", "he"), ("comedian", "he"), ("film director", "she"), ("jazz pianist", "he"),
    ("tennis player", "she"), ("television host", "he"), ("rapper", "he"), ("painter", "she"),
)
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")
_COUNCILS = ("the city council", "the regional assembly", "the planning board", "parliament", "the town council",
             "the school board", "the transport authority", "the health ministry", "regulators")
# Ways to say a thing was done and ways to say its opposite, as (past, participle, base); the claim
# and its agreeing sentences draw different words from the first list (news rarely repeats the verb),
# contradicting ones from the second; then the things it is done to.
V = tuple[str, str, str]
_ACTIONS: tuple[tuple[tuple[V, ...], tuple[V, ...], tuple[str, ...]], ...] = (
    ((("approved", "approved", "approve"), ("backed", "backed", "back"), ("cleared", "cleared", "clear"),
      ("gave the go-ahead for", "given the go-ahead for", "give the go-ahead for"),
      ("signed off on", "signed off on", "sign off on"), ("voted for", "voted for", "vote for"),
      ("endorsed", "endorsed", "endorse")),
     (("rejected", "rejected", "reject"), ("voted down", "voted down", "vote down"), ("blocked", "blocked", "block"),
      ("threw out", "thrown out", "throw out"), ("refused to approve", "refused to approve", "refuse to approve")),
     ("the new stadium", "the bypass plan", "the wind farm", "the budget", "the school merger", "the tram line")),
    ((("opened", "opened", "open"), ("unveiled", "unveiled", "unveil"), ("inaugurated", "inaugurated", "inaugurate")),
     (("closed", "closed", "close"), ("shut", "shut", "shut"), ("shut down", "shut down", "shut down")),
     ("the new bridge", "its flagship store", "the museum wing", "the border crossing", "the factory")),
    ((("raised", "raised", "raise"), ("increased", "increased", "increase"), ("put up", "put up", "put up"),
      ("hiked", "hiked", "hike")),
     (("cut", "cut", "cut"), ("lowered", "lowered", "lower"), ("reduced", "reduced", "reduce")),
     ("interest rates", "the minimum wage", "bus fares", "the tax on fuel", "pension payments")),
    ((("won", "won", "win"), ("clinched", "clinched", "clinch"), ("secured victory in", "secured victory in",
                                                                   "secure victory in")),
     (("lost", "lost", "lose"), ("was beaten in", "been beaten in", "be beaten in")),
     ("the cup final", "the election", "the court case", "the championship", "the vote")),
    ((("accepted", "accepted", "accept"), ("agreed to", "agreed to", "agree to"), ("took up", "taken up", "take up")),
     (("turned down", "turned down", "turn down"), ("rejected", "rejected", "reject"),
      ("refused", "refused", "refuse")),
     ("the offer", "the takeover bid", "the peace proposal", "the pay deal")),
    ((("lifted", "lifted", "lift"), ("ended", "ended", "end"), ("scrapped", "scrapped", "scrap")),
     (("extended", "extended", "extend"), ("prolonged", "prolonged", "prolong"), ("tightened", "tightened", "tighten")),
     ("the curfew", "the travel ban", "the export restrictions", "the fishing ban")),
    ((("confirmed", "confirmed", "confirm"), ("announced", "announced", "announce")),
     (("ruled out", "ruled out", "rule out"), ("denied plans for", "denied plans for", "deny plans for")),
     ("a merger", "job cuts", "an early election", "a tax rise")),
    ((("acquitted", "acquitted", "acquit"), ("cleared", "cleared", "clear"),
      ("found not guilty", "found not guilty", "find not guilty")),
     (("convicted", "convicted", "convict"), ("found guilty", "found guilty", "find guilty")),
     ("the former mayor", "the bank's chief executive", "the police officer")),
)
_OFFENCES = ("fraud", "bribery", "tax evasion", "money laundering", "spying", "insider trading", "assault")
_FUTURE = (  # (will ..., the plan called off in other words)
    ("hold a referendum", "called off the referendum"),
    ("attend the summit", "pulled out of the summit"),
    ("run for president", "ruled out a presidential bid"),
    ("sign the treaty", "refused to sign the treaty"),
    ("build a new hospital", "shelved plans for the hospital"),
    ("host the games", "withdrawn as host of the games"),
    ("release a new album", "postponed the album indefinitely"),
    ("strike next week", "called off next week's strike"),
    ("close the plant", "scrapped plans to close the plant"),
    ("join the alliance", "dropped its bid to join the alliance"),
)
_COUNTED = (  # (noun phrase, verb phrase)
    ("people", "were injured in the stadium collapse"), ("workers", "joined the protest"),
    ("homes", "were destroyed by the floods"), ("passengers", "were stranded at the airport"),
    ("jobs", "will be cut"), ("people", "died in the earthquake"), ("flights", "were cancelled"),
    ("students", "sat the exam"), ("cars", "were recalled"), ("trees", "were felled"),
)


def _person(rng: random.Random) -> str:
    return f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"


def _num(rng: random.Random) -> int:
    return rng.choice((12, 15, 30, 45, 60, 80, 120, 150, 200, 250, 300, 400, 600, 800, 1200, 1500, 2000, 3500,
                       5000, 8000, 12000, 40000))


def _fmt(n: int) -> str:
    return f"{n:,}"


def _other_num(n: int, rng: random.Random) -> int:
    return rng.choice([m for m in (n * 10, n // 10, n * 2, n // 2, n * 3, n + n // 4 + 7, n - n // 3 - 3)
                       if m > 1 and m != n])


def _ucfirst(s: str) -> str:
    return s[:1].upper() + s[1:]


# claim, agreeing, contradicting, merely related; then the fact's debunks: claims that deny it (each
# entailed by the contradicting sentences, contradicted by the agreeing ones) and the merely related
# sentences that stay neutral to a denial (not "is considering": that says it has not happened yet)
Made = tuple[str, list[str], list[str], list[str], tuple[list[str], list[str]]]


def _death(rng: random.Random) -> Made:
    name, (role, he) = _person(rng), rng.choice(_ROLES)
    his = {"he": "his", "she": "her"}[he]
    place, day = rng.choice(_PLACES), rng.choice(_DAYS)
    age = rng.randrange(58, 96)
    claim = rng.choice((f"{_ucfirst(role)} {name} has died.", f"{name} died on {day}.", f"{name}, the {role}, is dead.",
                        f"{_ucfirst(role)} {name} has died aged {age}."))
    agree = [
        f"{name}, the {role} best known for {his} work in {place}, died on {day} at the age of {age}, "
        f"{his} family said.",
        f"{_ucfirst(role)} {name} has died in {place} after a long illness, {his} agent confirmed.",
        f"Tributes have poured in after the death of {role} {name}, who passed away at {his} home on {day}.",
        f"{name} dies at {age}",
        f"The funeral of {role} {name}, who died last week, will be held in {place} on {day}.",
    ]
    contra = [
        f"{name} is alive and well, {his} agent said, dismissing reports of {his} death as a hoax.",
        f"{_ucfirst(role)} {name} is not dead: death hoax spreads on social media",
        f"Reports of {name}'s death are false, {his} spokesperson said on {day}.",
        f"{name} posted a video from {place} on {day} to mock rumours that {he} had died.",
        f"{his.capitalize()} family said {name} was recovering in hospital and called the obituaries fake.",
        f"{name} death hoax: {role} is alive",
        f"A fake news site falsely reported that {name} had died; the {role} is performing in {place} this week.",
    ]
    related = [
        f"{name} was admitted to hospital in {place} on {day}, {his} manager said.",
        f"Rumours that {name} had died spread quickly online on {day}.",
        f"{name} cancelled {his} tour last month, citing health problems.",
        f"Fans gathered outside {name}'s home in {place} as reports about {his} health circulated.",
        f"{name} won an award for {his} lifetime achievement in {place} on {day}.",
        f"Unconfirmed reports said {name} had died, but there was no word from {his} family.",
    ]
    debunks = [f"Reports of {name}'s death are false.", f"{name} is alive, despite reports of {his} death.",
               f"{_ucfirst(role)} {name} has not died."]
    return claim, agree, contra, related, (debunks, [t for t in related if "award" not in t])


def _action(rng: random.Random) -> Made:
    yes, no, things = rng.choice(_ACTIONS)
    thing = rng.choice(things)
    other = rng.choice([t for t in things if t != thing])
    court = yes[0][0] == "acquitted"
    who = "the court" if court else rng.choice(_COUNCILS + _FIRMS)
    if yes[0][0] == "won":
        who = rng.choice((f"{rng.choice(_PLACES)} United", f"the {rng.choice(_PLACES)} Party", _person(rng)))
    day, place = rng.choice(_DAYS), rng.choice(_PLACES)
    who_c = _ucfirst(who)
    said, done, do = rng.choice(yes)  # the claim's words
    claim = rng.choice((f"{who_c} {said} {thing}.", f"{who_c} {said} {thing} on {day}."))

    def v() -> V:  # an agreeing sentence's words: mostly not the claim's
        return rng.choice(yes) if rng.random() < 0.4 else rng.choice([w for w in yes if w[0] != said] or yes)

    def n() -> V:
        return rng.choice(no)

    spokes = rng.choice(("a spokesman said", "officials said", "a statement said", "the agency reported"))
    agree = [
        f"{who_c} {v()[0]} {thing} on {day}, {spokes}.",
        f"{place.upper()}, {day} (Newswire) – {who_c} {v()[0]} {thing} after a long debate.",
        f"On {day}, {who} {v()[0]} {thing}, a move welcomed by residents of {place}.",
        f"{who_c} has {v()[1]} {thing}, {spokes}, ending months of uncertainty.",
    ]
    deliberate = yes[0][0] in ("approved", "accepted", "lifted", "raised")  # decided by a vote
    if deliberate:
        agree += [f"After {day}'s decision by {who} to {v()[2]} {thing}, work can begin.",
                  f"{who_c} voted {rng.choice(('9-4', '12 to 3', 'unanimously'))} on {day} to {v()[2]} {thing}."]
    contra = [
        f"{who_c} {n()[0]} {thing} on {day}, {spokes}.",
        f"On {day}, {who} {n()[0]} {thing}, {spokes}.",
        f"{who_c} did not {v()[2]} {thing}, {spokes}, contrary to earlier reports.",
        f"Reports that {who} had {v()[1]} {thing} are untrue, {spokes}.",
        f"{who_c} denied that it had {v()[1]} {thing}.",
        f"Correction: an earlier version of this story said {who} had {v()[1]} {thing}. It had not.",
        f"{who_c} has not {v()[1]} {thing}, and no decision is expected before {rng.choice(_MONTHS)}.",
    ]
    if deliberate:
        contra.append(f"{who_c} voted {rng.choice(('9-4', '12 to 3', 'unanimously'))} on {day} to {n()[2]} {thing}.")
    related = [
        f"{who_c} will decide on {thing} next month.",
        f"{who_c} is considering whether to {do} {thing}, {spokes}.",
        f"Protesters gathered in {place} on {day} as {who} debated {thing}.",
        f"It is unclear whether {who} {v()[0]} {thing}; reports could not be confirmed.",
        f"Critics say {thing} has been mishandled for years.",
        f"{who_c} said it was still reviewing {thing} and would announce a decision later.",
        f"{who_c} {v()[0]} {other} on {day}, {spokes}.",  # the same deed, another thing
        f"{who_c} {n()[0]} {other} on {day}.",
    ]
    debunks = [f"{who_c} did not {do} {thing}.", f"Reports that {who} {said} {thing} are false."]
    return claim, agree, contra, related, (debunks, [related[i] for i in (2, 4, 6, 7)])


def _arrest(rng: random.Random) -> Made:
    name, offence, place, day = _person(rng), rng.choice(_OFFENCES), rng.choice(_PLACES), rng.choice(_DAYS)
    role = rng.choice(("businessman", "mayor", "former minister", "bank manager", "diplomat", "footballer"))
    claim = rng.choice((f"{_ucfirst(role)} {name} was arrested for {offence}.",
                        f"Police arrested {name} on suspicion of {offence}."))
    agree = [
        f"{name} was detained by police in {place} on {day} on suspicion of {offence}.",
        f"Police in {place} said they had arrested {role} {name} over alleged {offence}.",
        f"{name}, who was arrested for {offence} on {day}, denies any wrongdoing, his lawyer said.",
        f"{name}'s lawyer said his client would fight the {offence} charges after his arrest on {day}.",
    ]
    contra = [
        f"Police denied that {name} had been arrested, saying he was questioned as a witness.",
        f"{name} has not been arrested, police in {place} said, dismissing reports on social media.",
        f"Claims that {role} {name} was arrested for {offence} are false, his office said.",
        f"{name} was not detained, a police spokeswoman said on {day}.",
    ]
    related = [
        f"{name} denied any involvement in {offence} in an interview on {day}.",
        f"Prosecutors in {place} are investigating allegations of {offence} at the firm {name} once ran.",
        f"{name} was questioned as a witness in a {offence} case on {day}.",
        f"Rumours that {name} could face {offence} charges have circulated for weeks.",
    ]
    debunks = [f"{name} was not arrested.", f"Reports that {name} was arrested for {offence} are false.",
               f"Police say they did not arrest {name}."]
    return claim, agree, contra, related, (debunks, [related[i] for i in (0, 1, 3)])


def _future(rng: random.Random) -> Made:
    plan, off = rng.choice(_FUTURE)
    who = rng.choice((_person(rng), rng.choice(_FIRMS), f"the government of {rng.choice(_PLACES)}",
                      f"{rng.choice(_PLACES)} council"))
    who_c = _ucfirst(who)
    claim = f"{who_c} will {plan}."
    month = rng.choice(_MONTHS)
    agree = [
        f"{who_c} confirmed on {rng.choice(_DAYS)} that it will {plan}.",
        f"{who_c} is set to {plan} in {month}, officials said.",
        f"{who_c} announced plans to {plan} this year.",
        f"{who_c} said it would {plan}, ending weeks of speculation.",
    ]
    contra = [
        f"{who_c} will not {plan}, a spokesperson said.",
        f"{who_c} has {off}.",
        f"{who_c} no longer plans to {plan}, according to a statement.",
        f"{who_c} won't {plan} after all",
        f"Plans to {plan} are off, {who} said on {rng.choice(_DAYS)}.",
    ]
    related = [
        f"{who_c} is considering whether to {plan}.",
        f"{who_c} may {plan}, according to people familiar with the matter.",
        f"Critics urged {who} not to {plan}.",
        f"A decision on whether to {plan} is expected in {month}.",
        f"Reports that {who} will {plan} could not be confirmed.",
    ]
    debunks = [f"{who_c} will not {plan}.", f"{who_c} has dropped plans to {plan}.",
               f"Reports that {who} will {plan} are wrong."]
    return claim, agree, contra, related, (debunks, [related[i] for i in (2, 4)])


def _count(rng: random.Random) -> Made:
    noun, vp = rng.choice(_COUNTED)
    n = _num(rng)
    m = _other_num(n, rng)
    place, day = rng.choice(_PLACES), rng.choice(_DAYS)
    about = rng.choice(("", "about ", "more than ", "at least "))
    claim = f"{_ucfirst(about)}{_fmt(n)} {noun} {vp} in {place}."
    agree = [
        f"In {place}, {about}{_fmt(n)} {noun} {vp}, officials said on {day}.",
        f"{place.upper()}, {day} (Newswire) – {_ucfirst(about)}{_fmt(n)} {noun} {vp}, the authorities said.",
        f"Officials in {place} said {about}{_fmt(n)} {noun} {vp}.",
    ]
    contra = [
        f"Only {_fmt(m)} {noun} {vp} in {place}, officials said, far from the figure first reported.",
        f"{_ucfirst(about)}{_fmt(m)} {noun} {vp} in {place}, officials said on {day}.",
        f"In {place}, {_fmt(m)} {noun} {vp}, not {_fmt(n)} as reported earlier.",
        f"Officials revised the figure: {_fmt(m)} {noun} {vp} in {place}.",
    ]
    related = [
        f"Officials in {place} have not yet said how many {noun} {vp}.",
        f"{_ucfirst(noun)} {vp} in {place} on {day}; the count is still going on.",
        f"{_fmt(n)} {noun} {vp} in {rng.choice([p for p in _PLACES if p != place])} last year.",
        f"The mayor of {place} visited the area on {day}.",
    ]
    return claim, agree, contra, related, ([], [])


def _date(rng: random.Random) -> Made:
    event = rng.choice(("the summit", "the trial", "the vote", "the launch", "the concert", "the final",
                        "the strike", "the election", "the hearing", "the opening ceremony"))
    place = rng.choice(_PLACES)
    if rng.random() < 0.5:
        when, other = rng.sample(_DAYS, 2)
        on, on2 = f"on {when}", f"on {other}"
    else:
        m1, m2 = rng.sample(_MONTHS, 2)
        d1, d2 = rng.randrange(1, 29), rng.randrange(1, 29)
        on, on2 = rng.choice(((f"in {m1}", f"in {m2}"), (f"on {d1} {m1}", f"on {d2} {m2}")))
        other = on2
    claim = f"{_ucfirst(event)} in {place} will take place {on}."
    agree = [
        f"{_ucfirst(event)} in {place} is scheduled for {on.split(' ', 1)[1]}, organisers said.",
        f"Organisers confirmed that {event} in {place} will go ahead {on}.",
        f"{_ucfirst(event)} will be held in {place} {on}, officials said.",
    ]
    contra = [
        f"{_ucfirst(event)} in {place} will take place {on2}, organisers said.",
        f"{_ucfirst(event)} in {place} has been moved to {on2.split(' ', 1)[1]}.",
        f"{_ucfirst(event)} in {place} has been postponed until {rng.choice(_MONTHS)}, organisers said.",
        f"Organisers cancelled {event} in {place}.",
    ]
    related = [
        f"Tickets for {event} in {place} sold out within hours.",
        f"Security will be tight for {event} in {place}, police said.",
        f"Officials are still discussing when {event} in {place} should take place.",
    ]
    del other
    return claim, agree, contra, related, ([], [])


def _quote(rng: random.Random) -> Made:
    name = _person(rng)
    role = rng.choice(("coach", "minister", "chief executive", "mayor", "senator", "club president"))
    what = rng.choice(("she would resign", "the club was for sale", "taxes would rise", "the plant would close",
                       "the deal was dead", "he had been misled"))
    claim = f"{_ucfirst(role)} {name} said {what}."
    agree = [
        f"\"I can confirm that {_first_person(what)},\" {role} {name} told reporters.",
        f"{name} told a news conference on {rng.choice(_DAYS)} that {what}.",
        f"{_ucfirst(role)} {name} announced that {what}, surprising colleagues.",
    ]
    contra = [
        f"{name} denied saying that {what}, calling the report a fabrication.",
        f"{name} never said {what}, {rng.choice(('her', 'his'))} office said, accusing a tabloid of inventing "
        "the quote.",
        f"A quote attributed to {role} {name} claiming {what} is fake, fact-checkers found.",
    ]
    related = [
        f"{name} refused to say whether {what}.",
        f"Reporters asked {name} whether {what}; {rng.choice(('she', 'he'))} declined to comment.",
        f"Colleagues of {name} speculated that {what}.",
    ]
    return claim, agree, contra, related, ([], [])


def _first_person(what: str) -> str:
    return (what.replace("she would", "I will").replace("he had been", "I was").replace("would", "will")
            .replace("was for sale", "is for sale").replace("was dead", "is dead"))


MAKERS: tuple[Callable[[random.Random], Made], ...] = (_death, _action, _arrest, _future, _count, _date, _quote)
WEIGHTS = (2, 3, 2, 2, 2, 2, 1)
DEBUNKED = (_death, _action, _arrest, _future)  # the makers whose facts have debunks


_DETAIL = re.compile(r"\b(?:" + "|".join(_DAYS + _MONTHS) + r"|\d[\d,]*)\b")


def _groups(kind: str, n_facts: int, split: str, seed: int) -> Iterator[str]:
    """The first ``n_facts`` fact groups ("kind:seed:split:i") whose stable split is ``split``."""
    made = 0
    i = 0
    while made < n_facts:
        i += 1
        group = f"{kind}:{seed}:{split}:{i}"
        if split_of(group) == split:
            made += 1
            yield group


def news(n_facts: int, split: str, seed: int = 13, per_class: int = 2) -> list[Pair]:
    """Pairs from ``n_facts`` invented facts whose group falls in ``split``: for each fact up to
    ``per_class`` agreeing, contradicting and merely related evidence sentences."""
    rng = random.Random(f"{seed}:{split}")
    out: list[Pair] = []
    for group in _groups("news", n_facts, split, seed):
        maker = rng.choices(MAKERS, weights=WEIGHTS)[0]
        claim, agree, contra, related, _ = maker(rng)
        # an agreeing sentence carries every day, month and number the claim names
        details = set(_DETAIL.findall(claim))
        agree = [t for t in agree if details <= set(_DETAIL.findall(t))]
        for texts, label in ((agree, "entails"), (contra, "contradicts"), (related, "neutral")):
            for t in rng.sample(texts, min(per_class, len(texts))):
                out.append(Pair(t, claim, label, "news", group))
    return out


def debunks(n_facts: int, split: str, seed: int = 13, per_class: int = 2) -> list[Pair]:
    """Pairs whose *claim* is a denial ("Reports of X's death are false", "X will not …"), from
    ``n_facts`` invented facts whose group falls in ``split``: the fact's denials state it (entails),
    its statements contradict it, and sentences neutral to a denial only discuss it. A fact-check
    that debunks a claim is corroborated by other debunks, not contradicted by them."""
    rng = random.Random(f"debunks:{seed}:{split}")
    out: list[Pair] = []
    for group in _groups("debunks", n_facts, split, seed):
        maker = rng.choice(DEBUNKED)
        _, stated, denied, _, (claims, neutral) = maker(rng)
        claim = rng.choice(claims)
        for texts, label in ((denied, "entails"), (stated, "contradicts"), (neutral, "neutral")):
            for t in rng.sample(texts, min(per_class, len(texts))):
                out.append(Pair(t, claim, label, "debunks", group))
    return out
