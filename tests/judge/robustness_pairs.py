"""A CheckList-style robustness suite for the sentence judge (issue 22, item 4): claim / evidence pairs
labelled entails, contradicts or neutral, in eight categories of behaviour.

Written from scratch for this project: every person, place, organisation and event is invented, none of
the names is one of the training generator's (``corroborate.training.news``), and nothing is copied from
any dataset or real news. The pairs are hand-written, a few short stories per category, each story a claim
with evidence sentences that state it, deny it or only talk about the same people; the invariance pairs are
built from hand-written base pairs by adding "Update:" or ", officials said" to the evidence. It is an
evaluation set: never train on it and never choose thresholds on it.

Categories:

- ``antonym``: the evidence uses the antonym of the claim's word (alive/dead, acquitted/convicted, won/lost,
  rose/fell, reopened/closed, stays/resigned, found alive/found dead, approved/rejected): contradicts;
  agreeing evidence uses the claim's own word (entails); the same people in another fact (neutral).
- ``context``: denials and statements inside context: a leading phrase ("Don't worry:", "Update:",
  "Contrary to rumours,"), an appositive ("the Harbour-Lights-era crooner"), an attribution tail
  (", his lawyer said"); the same contexts around agreeing and neutral sentences.
- ``agreement``: paraphrase, headline case ("Mayor Astley-Voss Quits Amid Budget Row"), attributed
  (", police said") and passive forms; denials and side facts in the same forms so that "agree" alone
  does not pass.
- ``same-entity``: another fact about the same person or organisation is neutral (a few stated and denied
  controls).
- ``relay``: evidence that only relays the claim ("a report says", "reportedly", "is said to", "may",
  "could", rumours, unverified posts, a question headline) is neutral; the outlet stating it itself entails,
  denying it contradicts.
- ``numbers``: a changed figure or date contradicts, the same figure in another form entails, an unrelated
  figure of the same story is neutral.
- ``invariance``: a base pair's evidence with "Update:" in front or ", officials said" behind; a pair counts
  as right only when its judged label equals the gold *and* the judged label of its base pair (``base``).
- ``direction``: the same evidence with and without a negation; the label flips between entails and
  contradicts (no neutral pairs).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from corroborate.judge.reading import Judge

E, C, N = "entails", "contradicts", "neutral"
LABELS = (E, C, N)
CATEGORIES = ("antonym", "context", "agreement", "same-entity", "relay", "numbers", "invariance", "direction")
# what the judging path's stances mean here (as `corroborate eval denials` reads them)
STANCE_LABEL = {"agree": E, "disagree": C, "discuss": N, "unrelated": N}


@dataclass(frozen=True)
class Case:
    category: str
    claim: str
    evidence: str
    gold: str  # entails | contradicts | neutral
    base: str | None = None  # invariance only: the unperturbed evidence whose judged label must not change


# A story: the claim, then (label, evidence) alternating.
Story = tuple[str, ...]

_ANTONYM: list[Story] = [
    ("The painter Orla Penhallow is dead.",
     E, "Orla Penhallow is dead at 81, her gallery in Gullhaven Bay announced.",
     C, "Orla Penhallow is alive and still paints every morning in her studio in Gullhaven Bay.",
     N, "Orla Penhallow will open a retrospective of her seascapes in Gullhaven Bay next spring."),
    ("The climber Anselm Quist is alive.",
     E, "Anselm Quist is alive, rescuers on the Haldermoor ridge confirmed after a two-day search.",
     C, "Anselm Quist is dead; his body was recovered from the Haldermoor ridge on Monday.",
     N, "Anselm Quist set out alone to climb the north face of the Haldermoor ridge."),
    ("Former treasurer Kasimir Drebb was acquitted of fraud.",
     E, "A jury in Vessany acquitted Kasimir Drebb of all fraud charges on Thursday.",
     C, "Kasimir Drebb was convicted of fraud and will be sentenced next month.",
     N, "Kasimir Drebb's fraud trial drew crowds to the Vessany courthouse for three weeks."),
    ("The lorry driver Radek Umbrell was convicted of causing the Drummarra bridge crash.",
     E, "Radek Umbrell was convicted on Monday of causing the crash on the Drummarra bridge.",
     C, "Radek Umbrell was acquitted of causing the Drummarra bridge crash after the jury deliberated for six hours.",
     N, "Radek Umbrell had driven lorries across the Drummarra bridge for twenty years."),
    ("Drummarra Rovers won the regional cup final.",
     E, "Drummarra Rovers won the regional cup final 2-1 after extra time.",
     C, "Drummarra Rovers lost the regional cup final to Ardwyn Athletic.",
     N, "Drummarra Rovers have appointed a new goalkeeping coach from Lindmarch."),
    ("Mayor Tiber Malloch lost the Morrowfield election.",
     E, "Tiber Malloch lost the Morrowfield mayoral election by 900 votes.",
     C, "Tiber Malloch won the Morrowfield election and will serve a second term.",
     N, "Tiber Malloch campaigned on cheaper bus fares across Morrowfield."),
    ("Shares in Tessaly Motors rose on Wednesday.",
     E, "Tessaly Motors shares rose 4 per cent on Wednesday after strong car sales.",
     C, "Tessaly Motors shares fell sharply on Wednesday after a profit warning.",
     N, "Tessaly Motors will build a battery plant outside Ostravel."),
    ("Unemployment in Brennamoor fell last year.",
     E, "Unemployment in Brennamoor fell last year to its lowest level in a decade.",
     C, "Unemployment in Brennamoor rose last year as two mills shut their gates.",
     N, "Brennamoor's regional council publishes its jobs figures every March."),
    ("The Fennick Cross library has reopened.",
     E, "The Fennick Cross library reopened on Saturday after a two-year refit.",
     C, "The Fennick Cross library has closed for good, the council confirmed.",
     N, "The Fennick Cross library was designed by the architect Wenna Corrib in 1962."),
    ("The Tarrowgate ferry terminal has closed.",
     E, "The Tarrowgate ferry terminal closed on Friday, stranding hundreds of travellers.",
     C, "The Tarrowgate ferry terminal has reopened after repairs to its storm-damaged ramp.",
     N, "The Tarrowgate ferry terminal was paid for with a fishing levy in the 1970s."),
    ("Finance minister Sunniva Haldane has resigned.",
     E, "Sunniva Haldane has resigned as finance minister, citing ill health.",
     C, "Sunniva Haldane stays on as finance minister despite calls to quit.",
     N, "Sunniva Haldane presented the spring budget to parliament in April."),
    ("Coach Gideon Parrow will stay at Ardwyn Athletic next season.",
     E, "Gideon Parrow will stay at Ardwyn Athletic for another season, the club announced.",
     C, "Gideon Parrow has resigned as Ardwyn Athletic coach with immediate effect.",
     N, "Gideon Parrow played for Ardwyn Athletic for eleven seasons before he took up coaching."),
    ("The missing hiker Liesl Ambrose-Kett was found alive.",
     E, "Liesl Ambrose-Kett was found alive in a mountain hut above Lindmarch on Sunday.",
     C, "Liesl Ambrose-Kett was found dead in a ravine above Lindmarch, police said.",
     N, "Liesl Ambrose-Kett had been walking alone near Lindmarch when she was last seen."),
    ("The fisherman Emrys Coldrake was found dead near Gullhaven Bay.",
     E, "Emrys Coldrake was found dead on the shore near Gullhaven Bay on Tuesday morning.",
     C, "Emrys Coldrake was found alive, clinging to a buoy near Gullhaven Bay.",
     N, "Emrys Coldrake had fished out of Gullhaven Bay since he was a boy."),
    ("The Vessany council approved the new tram depot.",
     E, "The Vessany council approved the new tram depot by 31 votes to 9.",
     C, "The Vessany council rejected the new tram depot after a heated debate.",
     N, "The plans for the Vessany tram depot were drawn up by a firm of engineers from Drummarra."),
    ("Regulators rejected the merger of Corvana Airlines and Skyfen.",
     E, "Regulators rejected the merger of Corvana Airlines and Skyfen on competition grounds.",
     C, "Regulators approved the merger of Corvana Airlines and Skyfen without conditions.",
     N, "Corvana Airlines and Skyfen together fly to more than sixty cities."),
]

_CONTEXT: list[Story] = [
    ("The actress Dana Verlo has died.",
     C, "Don't worry: Dana Verlo is alive and well and filming in Port Ellisande.",
     E, "Update: the actress Dana Verlo has died at her home in Port Ellisande, aged 74.",
     N, "Don't worry: Dana Verlo's latest film still opens in cinemas on Friday."),
    ("The red panda that escaped from Morrowfield Zoo has been found.",
     C, "Update: Morrowfield Zoo's red panda has not been found, and the search goes on tonight.",
     E, "Don't worry: the red panda that slipped out of Morrowfield Zoo has been found safe in a garden.",
     N, "Update: Morrowfield Zoo says it will check how every enclosure is locked."),
    ("The Brennamoor police chief Oona Breckridge has resigned.",
     C, "Contrary to rumours, Oona Breckridge has not resigned and remains Brennamoor's police chief.",
     E, "Contrary to rumours that she would cling on, Oona Breckridge has resigned as Brennamoor's police chief.",
     N, "Contrary to rumours, Oona Breckridge's officers will not get new uniforms this year."),
    ("The singer Cosmo Yelverton has died.",
     C, "Cosmo Yelverton, the Harbour-Lights-era crooner, is alive and touring, his agent said.",
     E, "Cosmo Yelverton, the Harbour-Lights-era crooner, has died at 88, his agent said.",
     N, "Cosmo Yelverton, the Harbour-Lights-era crooner, will release a live album in June, his agent said."),
    ("The footballer Aurelio Fansett was arrested in Ostravel.",
     C, "Aurelio Fansett was not arrested in Ostravel, his lawyer said, calling the reports nonsense.",
     E, "Aurelio Fansett was arrested in Ostravel on Saturday night, his lawyer said.",
     N, "Aurelio Fansett bought a house in Ostravel last summer, his lawyer said."),
    ("The Ardwyn footbridge collapsed on Tuesday.",
     C, "Update: the Ardwyn footbridge did not collapse; a section of scaffolding beside it fell.",
     E, "Update: the Ardwyn footbridge collapsed on Tuesday afternoon, and two people were hurt.",
     N, "Update: volunteers painted the Ardwyn footbridge green last autumn."),
    ("Kordell Mining has agreed to buy the smelter group Corrado Metals.",
     C, "For the record, Kordell Mining has not agreed to buy Corrado Metals, a Kordell spokesperson said.",
     E, "For the record: Kordell Mining did agree to buy Corrado Metals, and the deal closes in May.",
     N, "For the record, Kordell Mining and Corrado Metals both keep offices in Tarrowgate."),
    ("The tennis player Jovana Trell broke her wrist.",
     C, "Relax, Trell fans: Jovana Trell did not break her wrist, she only sprained it, her coach said.",
     E, "Jovana Trell, the left-handed champion from Vessany, broke her wrist in training, her coach said.",
     N, "Jovana Trell, the left-handed champion from Vessany, is sponsored by a sportswear firm from Lindmarch."),
    ("The Drummarra Arts Festival has been cancelled.",
     C, "Despite what you may have read online, the Drummarra Arts Festival has not been cancelled and opens on "
        "Friday.",
     E, "Despite weeks of hopeful posts online, the Drummarra Arts Festival has been cancelled, organisers said.",
     N, "Despite what you may have read online, the Drummarra Arts Festival has never sold alcohol."),
    ("The novelist Perpetua Lusk has won the Amberwell Prize.",
     C, "Breaking: Perpetua Lusk has not won the Amberwell Prize; the jury chose a poet from Ardwyn instead.",
     E, "Breaking: Perpetua Lusk has won the Amberwell Prize for her novel about a lighthouse keeper.",
     N, "Breaking: Perpetua Lusk will chair next year's book festival in Port Ellisande."),
    ("The television host Henrike Solby has quit her morning show.",
     C, "Henrike Solby has not quit her morning show and will be back on air on Monday, her publicist said.",
     E, "Henrike Solby has quit her morning show after nine years, her publicist said.",
     N, "Henrike Solby's morning show moved to a bigger studio in Morrowfield last year, her publicist said."),
    ("The Gullhaven Bay lifeboat station will close.",
     C, "Contrary to reports, the Gullhaven Bay lifeboat station, the oldest on the coast, will stay open.",
     E, "The Gullhaven Bay lifeboat station, the oldest on the coast, will close in the autumn, contrary to earlier "
        "promises.",
     N, "The Gullhaven Bay lifeboat station, the oldest on the coast, has a new boat named after a local teacher."),
    ("The band Velvet Orrery has split up.",
     C, "Fans can breathe easy: Velvet Orrery has not split up, the band's manager said.",
     E, "Velvet Orrery has split up after twenty years, the band's manager said, to the dismay of fans.",
     N, "Fans can breathe easy: Velvet Orrery's tour shirts will be sold online too."),
    ("The chef Brenna Dalquist was injured in a kitchen fire.",
     C, "Correction: Brenna Dalquist was not injured in the kitchen fire, which broke out after she had left.",
     E, "Brenna Dalquist was injured in a kitchen fire at her Tarrowgate restaurant, a fire service spokesman said.",
     N, "Correction: Brenna Dalquist's restaurant is in Tarrowgate, not in Lindmarch as we wrote earlier."),
    ("The Ostravel steelworks will cut 400 jobs.",
     C, "Good news for Ostravel: the steelworks will not cut 400 jobs after all, the owners said.",
     E, "Bad news for Ostravel: the steelworks will cut 400 jobs, the owners said.",
     N, "Good news for Ostravel: the steelworks has won an order for railway track."),
]

_AGREEMENT: list[Story] = [
    ("Mayor Fenna Astley-Voss resigned over the budget dispute.",
     E, "Fenna Astley-Voss stepped down as mayor after a row over the budget.",
     E, "Mayor Astley-Voss Quits Amid Budget Row",
     C, "Astley-Voss Vows to Stay On as Mayor Despite Budget Row",
     N, "Astley-Voss Unveils Budget With Deep Cuts to Parks"),
    ("Police arrested two men after the robbery at the Drummarra jewellery shop.",
     E, "Two men have been arrested over the robbery at a jewellery shop in Drummarra, police said.",
     C, "No one has been arrested over the robbery at the Drummarra jewellery shop, police said.",
     N, "The Drummarra jewellery shop had put in new cameras a month before the robbery, police said."),
    ("Halcyon Transit has bought forty electric buses.",
     E, "Forty electric buses have been bought by Halcyon Transit.",
     E, "Halcyon Transit has purchased a fleet of forty battery-powered buses.",
     C, "No electric buses have been bought by Halcyon Transit, which is keeping its diesel fleet.",
     N, "Halcyon Transit's old buses are being repainted in blue and white."),
    ("The Lindmarch museum returned the stolen painting to its owners.",
     E, "The stolen painting was handed back to its owners by the Lindmarch museum.",
     C, "The stolen painting has not been returned to its owners by the Lindmarch museum, which says it bought "
        "it in good faith.",
     N, "The Lindmarch museum was founded by a shipping family in 1890."),
    ("The Tessaly Motors factory in Ostravel will close next year.",
     E, "Tessaly Motors to Shut Ostravel Plant Next Year",
     C, "Tessaly Motors Rules Out Closing Ostravel Plant",
     N, "Tessaly Motors Names New Boss for Ostravel Plant"),
    ("The singer Marguerite Osk cancelled her Morrowfield concert.",
     E, "Marguerite Osk called off her show in Morrowfield.",
     E, "Marguerite Osk Cancels Morrowfield Gig",
     E, "Marguerite Osk has cancelled her concert in Morrowfield, the promoter said.",
     C, "Marguerite Osk's Morrowfield concert will go ahead as planned, the promoter said.",
     N, "Marguerite Osk played her first ever concert in a Morrowfield pub."),
    ("Firefighters rescued three children from the burning flat in Port Ellisande.",
     E, "Three children were rescued by firefighters from a burning flat in Port Ellisande.",
     E, "Firefighters Save Three Children From Port Ellisande Flat Blaze",
     C, "Three children died in the burning flat in Port Ellisande before firefighters could reach them.",
     N, "The fire in the Port Ellisande flat started in the kitchen, firefighters said."),
    ("The Ardwyn Water Board raised water bills by a tenth.",
     E, "Households in Ardwyn will pay a tenth more for water after the water board put up its charges.",
     C, "The Ardwyn Water Board has frozen water bills for another year.",
     N, "The Ardwyn Water Board is replacing old lead pipes in the town centre."),
    ("A court in Vessany jailed the former banker Ivo Marranec for six years.",
     E, "Ivo Marranec was sentenced to six years in prison by a Vessany court, prosecutors said.",
     E, "Ex-Banker Marranec Jailed for Six Years",
     C, "A Vessany court cleared Ivo Marranec of all charges, his lawyers said.",
     N, "Marranec Trial Hears From Former Colleagues"),
    ("Scientists at Haldermoor University discovered a new species of frog.",
     E, "A new species of frog has been discovered by scientists from Haldermoor University.",
     E, "Haldermoor Scientists Find New Frog Species",
     C, "Haldermoor University scientists say the frog they found belongs to a species that was already known.",
     N, "Haldermoor University opened a new biology building last year."),
    ("The Amberleigh Orchestra appointed Tobiah Renwyck as its conductor.",
     E, "Tobiah Renwyck has been named conductor of the Amberleigh Orchestra.",
     C, "The Amberleigh Orchestra passed over Tobiah Renwyck and chose a violinist from Drummarra as its conductor, "
        "a spokeswoman said.",
     N, "Tobiah Renwyck was taught the piano by his grandmother."),
    ("Voters in Tarrowgate backed the plan for a new bypass.",
     E, "Tarrowgate Votes Yes to Bypass",
     E, "A majority of Tarrowgate voters supported the bypass plan, election officials said.",
     C, "Tarrowgate Voters Reject Bypass Plan",
     N, "Tarrowgate Bypass Route Would Cross Two Rivers"),
    ("Several people were taken to hospital after the gas leak in Brennamoor.",
     E, "A number of people needed hospital treatment after a gas leak in Brennamoor, the ambulance service said.",
     C, "Nobody needed hospital treatment after the gas leak in Brennamoor, the ambulance service said.",
     N, "The gas leak in Brennamoor was caused by a cracked pipe under the high street."),
]

_SAME_ENTITY: list[Story] = [
    ("Dana Verlo is dead.", N, "Dana Verlo starred in a film about a lighthouse keeper in 1998."),
    ("Dana Verlo has married her co-star.", N, "Dana Verlo grew up on a farm outside Port Ellisande."),
    ("Kasimir Drebb has been charged with bribery.", N, "Kasimir Drebb owns a vineyard near Vessany."),
    ("Kasimir Drebb will run for governor.",
     N, "Kasimir Drebb was treasurer of the Vessany football club in the 1990s."),
    ("Drummarra Rovers sacked their manager.", N, "Drummarra Rovers play their home games at a stadium by the river."),
    ("Drummarra Rovers have been relegated.", N, "Drummarra Rovers' youth team toured Lindmarch in the summer."),
    ("Corvana Airlines has gone bankrupt.",
     N, "Corvana Airlines was founded by two former pilots in 1979.",
     E, "Corvana Airlines has gone bankrupt and grounded its fleet, administrators said."),
    ("Corvana Airlines cancelled all flights to Ostravel.",
     N, "Corvana Airlines serves hot meals on flights longer than three hours."),
    ("Sunniva Haldane was taken to hospital.", N, "Sunniva Haldane studied economics in Lindmarch."),
    ("Sunniva Haldane will raise fuel taxes.", N, "Sunniva Haldane has two daughters and a dog called Pepper."),
    ("The Morrowfield Symphony has cancelled its tour.",
     N, "The Morrowfield Symphony recorded an album of sea shanties last spring."),
    ("The Morrowfield Symphony's conductor was arrested.",
     N, "The Morrowfield Symphony performs in a hall that seats 1,800 people."),
    ("Tessaly Motors recalled 20,000 cars.",
     N, "Tessaly Motors sponsors a cycling team.",
     C, "Tessaly Motors said it has not recalled any cars."),
    ("Tessaly Motors' chief executive has resigned.", N, "Tessaly Motors makes a small van popular with florists."),
    ("Perpetua Lusk was injured in a car crash.", N, "Perpetua Lusk wrote her first novel in a caravan."),
    ("Perpetua Lusk is suing her publisher.",
     N, "Perpetua Lusk's books have been translated into nineteen languages.",
     C, "Perpetua Lusk has no plans to sue her publisher, her agent said."),
    ("The Fennick Cross bridge has collapsed.", N, "The Fennick Cross bridge was painted red in 2009."),
    ("The Fennick Cross bridge will get a toll.", N, "The Fennick Cross bridge carries a water main under its deck."),
    ("Anselm Quist has died on the mountain.", N, "Anselm Quist wrote a book about climbing with his brother."),
    ("Anselm Quist reached the summit of Mount Carvetti.",
     N, "Anselm Quist is sponsored by an outdoor clothing company from Haldermoor."),
    ("Kordell Mining was fined for polluting the river.",
     N, "Kordell Mining employs about 3,000 people in the north.",
     E, "A court fined Kordell Mining for polluting the river with copper waste."),
    ("Kordell Mining will open a new copper mine.", N, "Kordell Mining's head office is in Tarrowgate."),
    ("Gideon Parrow has been sacked by Ardwyn Athletic.",
     N, "Gideon Parrow once scored four goals in a single match for Ardwyn Athletic.",
     C, "Ardwyn Athletic said Gideon Parrow keeps his job as coach."),
    ("Gideon Parrow is in hospital.", N, "Gideon Parrow's son plays in goal for a club in Brennamoor."),
    ("The Gullhaven Bay ferry sank.",
     N, "The Gullhaven Bay ferry was built in a shipyard in Port Ellisande.",
     C, "The Gullhaven Bay ferry did not sink; it ran aground and every passenger was taken off safely."),
    ("The Gullhaven Bay ferry will stop running in winter.", N, "The Gullhaven Bay ferry can carry 300 passengers."),
    ("Jovana Trell has retired from tennis.",
     N, "Jovana Trell won her first junior title at the age of twelve.",
     E, "Jovana Trell has retired from professional tennis at 31."),
    ("Jovana Trell tested positive for a banned drug.", N, "Jovana Trell is coached by her older brother."),
    ("Halcyon Transit has raised bus fares.", N, "Halcyon Transit runs a night bus to the airport."),
    ("Halcyon Transit drivers are on strike.",
     N, "Halcyon Transit has ordered a batch of new ticket machines.",
     E, "Halcyon Transit drivers walked out on Monday in a strike over pay."),
    ("Oona Breckridge was shot during a raid.",
     N, "Oona Breckridge joined the Brennamoor police as a cadet at eighteen."),
    ("Oona Breckridge has been suspended.", N, "Oona Breckridge wrote the Brennamoor police's rules on car chases."),
]

_RELAY: list[Story] = [
    ("The actor Bastian Querrel has died.",
     N, "Is Bastian Querrel Dead?",
     N, "Unverified posts claim that the actor Bastian Querrel has died.",
     E, "The actor Bastian Querrel has died at his home in Lindmarch, his family confirmed.",
     C, "Bastian Querrel is alive; posts claiming he has died are false, his manager said."),
    ("Minister Hadrian Vosk has resigned.",
     N, "Hadrian Vosk has resigned, a report says.",
     N, "Hadrian Vosk is said to have resigned.",
     E, "Hadrian Vosk resigned on Tuesday, handing his letter to the prime minister in person.",
     C, "Hadrian Vosk has not resigned and will attend cabinet on Thursday."),
    ("Corrado Metals will cut 800 jobs.",
     N, "Corrado Metals could cut as many as 800 jobs, analysts warn.",
     E, "Corrado Metals will cut 800 jobs, the company announced on Monday.",
     C, "Corrado Metals will not cut any jobs this year, its chief executive said."),
    ("The Drummarra dam has cracked.",
     N, "Rumours that the Drummarra dam has cracked spread on social media overnight.",
     E, "The Drummarra dam has cracked, the water authority said after an inspection.",
     C, "The Drummarra dam is intact, the water authority said after an inspection."),
    ("Florin Amsell has signed for Ardwyn Athletic.",
     N, "Florin Amsell has reportedly signed for Ardwyn Athletic.",
     E, "Ardwyn Athletic have signed Florin Amsell on a three-year contract.",
     C, "Florin Amsell will not join Ardwyn Athletic, his agent said, ending weeks of talks."),
    ("Sallow & Finch will close its printing works in Morrowfield.",
     N, "Sallow & Finch may close its printing works in Morrowfield.",
     E, "Sallow & Finch will close its Morrowfield printing works in June, the publisher said.",
     C, "Sallow & Finch has no intention of closing its Morrowfield printing works, the publisher said."),
    ("The pop star Nelli Brascombe has married her drummer.",
     N, "Nelli Brascombe is said to have married her drummer in a secret ceremony.",
     E, "Nelli Brascombe married her drummer on Saturday in a small ceremony in Gullhaven Bay.",
     C, "Nelli Brascombe has not married her drummer, her spokesperson said, adding that the pair split last year."),
    ("A tiger escaped from the Haldermoor wildlife park.",
     N, "Unverified posts claim a tiger escaped from the Haldermoor wildlife park.",
     E, "A tiger escaped from the Haldermoor wildlife park on Sunday and was caught two hours later.",
     C, "No tiger escaped from the Haldermoor wildlife park, its director said, calling the posts a hoax."),
    ("The Vessany central bank will raise interest rates.",
     N, "The Vessany central bank could raise interest rates next month, economists say.",
     E, "The Vessany central bank will raise interest rates, its governor told parliament.",
     C, "The Vessany central bank will leave interest rates unchanged, its governor said."),
    ("Halcyon Transit's chief executive was arrested.",
     N, "Halcyon Transit's chief executive has allegedly been arrested, according to a local blog.",
     E, "Police arrested the chief executive of Halcyon Transit at his home on Wednesday.",
     C, "Halcyon Transit's chief executive has not been arrested, police said."),
    ("The comedian Rhodri Quellyn has quit his radio show.",
     N, "Did Rhodri Quellyn Quit His Radio Show?",
     E, "Rhodri Quellyn has quit his radio show after twelve years, the station said.",
     C, "Rhodri Quellyn is staying on his radio show, the station said."),
    ("A meteorite hit a barn near Fennick Cross.",
     N, "A meteorite reportedly hit a barn near Fennick Cross.",
     E, "A meteorite hit a barn near Fennick Cross, astronomers at Haldermoor University confirmed.",
     C, "No meteorite hit the barn near Fennick Cross; a gas bottle exploded, fire officers said."),
    ("The Ostravel election has been postponed.",
     N, "There are rumours that the Ostravel election will be postponed.",
     E, "The Ostravel election has been postponed until the spring, the electoral board announced.",
     C, "The Ostravel election will go ahead as planned, the electoral board said."),
    ("The explorer Wendeline Morrack has gone missing in the Sarrow desert.",
     N, "Wendeline Morrack may have gone missing in the Sarrow desert, a tabloid claims.",
     E, "Wendeline Morrack has gone missing in the Sarrow desert, her expedition team said.",
     C, "Wendeline Morrack is safe and in daily contact with her team in the Sarrow desert."),
]

_NUMBERS: list[Story] = [
    ("The Drummarra bridge cost 42 million crowns.",
     E, "The Drummarra bridge cost forty-two million crowns to build.",
     C, "The Drummarra bridge cost 24 million crowns to build.",
     N, "The Drummarra bridge is 640 metres long."),
    ("The Amberleigh Orchestra was founded in 1887.",
     E, "Founded in 1887, the Amberleigh Orchestra is the oldest in the region.",
     C, "The Amberleigh Orchestra was founded in 1921.",
     N, "The Amberleigh Orchestra has 94 players."),
    ("About 1,200 people attended the Tarrowgate rally.",
     E, "About twelve hundred people turned up at the rally in Tarrowgate.",
     C, "Only about 200 people turned up at the Tarrowgate rally.",
     N, "The Tarrowgate rally lasted three hours."),
    ("The Morrowfield marathon will take place on 14 June.",
     E, "The Morrowfield marathon will be run on June 14.",
     C, "The Morrowfield marathon will take place on 21 June.",
     N, "The Morrowfield marathon expects 6,000 runners."),
    ("Kordell Mining's profit doubled last year.",
     E, "Kordell Mining's profit rose by 100 per cent last year.",
     C, "Kordell Mining's profit halved last year.",
     N, "Kordell Mining paid a dividend of 3 crowns a share last year."),
    ("Half of the households in Ardwyn have no car.",
     E, "Fifty per cent of households in Ardwyn do not own a car.",
     C, "A quarter of households in Ardwyn have no car.",
     N, "Ardwyn has 8,400 households."),
    ("The Gullhaven Bay ferry carried 3 million passengers last year.",
     E, "Three million passengers travelled on the Gullhaven Bay ferry last year.",
     C, "The Gullhaven Bay ferry carried 1.3 million passengers last year.",
     N, "A return ticket on the Gullhaven Bay ferry costs 18 crowns."),
    ("Corvana Airlines ordered 12 new planes.",
     E, "Corvana Airlines has ordered a dozen new planes.",
     C, "Corvana Airlines has ordered 20 new planes.",
     N, "Corvana Airlines has 35 planes in its fleet."),
    ("The Fennick Cross school will open on 2 September.",
     E, "The Fennick Cross school opens its doors on September 2.",
     C, "The Fennick Cross school will open on 9 September.",
     N, "The Fennick Cross school will have 450 pupils."),
    ("Unemployment in Ostravel is 7.5 per cent.",
     E, "Ostravel's jobless rate stands at 7.5%.",
     C, "Ostravel's jobless rate stands at 5.7%.",
     N, "Ostravel has about 310,000 inhabitants."),
    ("The storm killed four people in Lindmarch.",
     E, "Four people died in Lindmarch when the storm hit.",
     C, "The storm killed fourteen people in Lindmarch.",
     N, "The storm brought 80 millimetres of rain to Lindmarch in a day."),
    ("The painting sold for 2.5 million crowns at auction in Vessany.",
     E, "The painting fetched two and a half million crowns at the Vessany auction.",
     C, "The painting sold for 5.2 million crowns at auction in Vessany.",
     N, "The painting was 300 years old when it came up for auction in Vessany."),
    ("Tobiah Renwyck turned 60 on Tuesday.",
     E, "Tobiah Renwyck celebrated his sixtieth birthday on Tuesday.",
     C, "Tobiah Renwyck turned 70 on Tuesday.",
     N, "Tobiah Renwyck has conducted 25 operas."),
    ("The Haldermoor reservoir is 80 per cent full.",
     E, "The Haldermoor reservoir is four-fifths full.",
     C, "The Haldermoor reservoir is only 30 per cent full.",
     N, "The Haldermoor reservoir was built in 1934."),
    ("The trial of Ivo Marranec began in March 2019.",
     E, "Ivo Marranec's trial opened in March 2019.",
     C, "Ivo Marranec's trial began in March 2021.",
     N, "Ivo Marranec worked at the bank for 17 years."),
]

# invariance: base pairs (claim, evidence, gold); the suite adds "Update:" and ", officials said" to the evidence
_INVARIANCE_BASES: list[tuple[str, str, str]] = [
    ("The Lindmarch tram line has reopened.",
     "The Lindmarch tram line reopened on Monday after repairs to the overhead wires.", E),
    ("Ardwyn Athletic sacked their goalkeeping coach.", "Ardwyn Athletic have dismissed their goalkeeping coach.", E),
    ("A fire destroyed the old cinema in Morrowfield.", "The old cinema in Morrowfield burned down overnight.", E),
    ("The Port Ellisande lighthouse will be sold.",
     "The Port Ellisande lighthouse is to be sold to a private buyer.", E),
    ("The Vessany hospital has banned visitors.",
     "Visitors are banned from the Vessany hospital until further notice.", E),
    ("Two climbers were rescued from Mount Carvetti.",
     "Rescuers brought two climbers down safely from Mount Carvetti on Saturday.", E),
    ("The Haldermoor floodgates failed during the storm.", "The Haldermoor floodgates held firm throughout the storm.",
     C),
    ("The mayor of Drummarra was re-elected.", "The mayor of Drummarra lost her seat in the election.", C),
    ("The Brennamoor factory fire was started deliberately.",
     "The Brennamoor factory fire was an accident caused by faulty wiring.", C),
    ("The Ostravel airport expansion has been approved.",
     "The Ostravel airport expansion has been blocked by the planning board.", C),
    ("The poet Ilario Venn has died.", "The poet Ilario Venn is alive and recovering in hospital.", C),
    ("Salaries at Tessaly Motors were cut.", "Tessaly Motors raised the salaries of all its workers.", C),
    ("The Tarrowgate swimming pool has closed.",
     "The Tarrowgate swimming pool was designed by a local architect in 1971.", N),
    ("The Gullhaven Bay festival was cancelled.",
     "The Gullhaven Bay festival features brass bands from along the coast.", N),
    ("The Fennick Cross mill was sold.", "The Fennick Cross mill once made sailcloth for the navy.", N),
    ("The conductor of the Amberleigh Orchestra has quit.", "The Amberleigh Orchestra rehearses in a former church.",
     N),
    ("Halcyon Transit will cut its night buses.", "Halcyon Transit's buses are painted blue and white.", N),
    ("Pilots at Corvana Airlines went on strike.", "Corvana Airlines pilots wear green uniforms.", N),
]

# direction: (claim, evidence, the same evidence negated, gold of the first); the negation flips the gold
_DIRECTION: list[tuple[str, str, str, str]] = [
    ("The Ardwyn council has approved the wind farm.",
     "The Ardwyn council has approved the wind farm, ending a long dispute.",
     "The Ardwyn council has not approved the wind farm, prolonging a long dispute.", E),
    ("Jovana Trell will play in the Morrowfield Open.",
     "Jovana Trell will play in the Morrowfield Open, her coach confirmed.",
     "Jovana Trell will not play in the Morrowfield Open, her coach confirmed.", E),
    ("The Drummarra ferry is running again.",
     "After the strike, the Drummarra ferry is running again.",
     "After the strike, the Drummarra ferry is still not running.", E),
    ("Perpetua Lusk signed a new contract with Sallow & Finch.",
     "Perpetua Lusk has signed a new contract with her publisher Sallow & Finch.",
     "Perpetua Lusk has not signed a new contract with her publisher Sallow & Finch.", E),
    ("Police found the stolen van in Lindmarch.",
     "The stolen van was found by police in Lindmarch.",
     "The stolen van has not been found by police in Lindmarch.", E),
    ("The Tarrowgate school has a new head teacher.",
     "The Tarrowgate school has appointed a new head teacher.",
     "The Tarrowgate school has not appointed a new head teacher.", E),
    ("Oona Breckridge attended the Brennamoor inquiry.",
     "Oona Breckridge attended the inquiry in Brennamoor, as she had been asked to.",
     "Oona Breckridge never attended the inquiry in Brennamoor, though she had been asked to.", E),
    ("Kordell Mining pays tax in Ostravel.",
     "Kordell Mining pays tax in Ostravel, where its mines are.",
     "Kordell Mining pays no tax in Ostravel, where its mines are.", E),
    ("The Haldermoor museum is open on Sundays.",
     "On Sundays the Haldermoor museum is open to visitors.",
     "On Sundays the Haldermoor museum is not open to visitors.", E),
    ("The Gullhaven Bay pier was not damaged by the storm.",
     "The storm damaged the Gullhaven Bay pier badly.",
     "The storm did not damage the Gullhaven Bay pier at all.", C),
    ("Gideon Parrow will not coach the national team.",
     "Gideon Parrow will coach the national team from next month.",
     "Gideon Parrow will not be coaching the national team.", C),
    ("Corvana Airlines has not cancelled its Drummarra flights.",
     "Corvana Airlines has cancelled its flights to Drummarra.",
     "Corvana Airlines has not cancelled its flights to Drummarra.", C),
    ("Nobody was hurt in the Fennick Cross train derailment.",
     "Several people were hurt in the Fennick Cross train derailment.",
     "No one was hurt in the Fennick Cross train derailment.", C),
    ("Sunniva Haldane did not meet the Corrado Metals lobbyists.",
     "Sunniva Haldane met the Corrado Metals lobbyists, her office said.",
     "Sunniva Haldane did not meet the Corrado Metals lobbyists, her office said.", C),
    ("The Morrowfield Symphony is not going on tour this year.",
     "This year the Morrowfield Symphony is going on tour.",
     "This year the Morrowfield Symphony is not going on tour.", C),
    ("The Ostravel steelworks will not be sold.",
     "The Ostravel steelworks will be sold to a foreign buyer, the owners decided.",
     "The Ostravel steelworks will not be sold to anyone, the owners decided.", C),
    ("Radek Umbrell has not been released from prison.",
     "Radek Umbrell has walked free from prison.",
     "Radek Umbrell has not walked free from prison.", C),
    ("The Brennamoor clinic does not charge patients.",
     "The Brennamoor clinic charges its patients a fee.",
     "The Brennamoor clinic does not charge its patients a fee.", C),
]

_LOWER_FIRST = ("The ", "A ", "An ", "Two ", "Visitors ", "Rescuers ")


def with_update(evidence: str) -> str:
    """'Update: ' in front; a first word that is no name loses its capital."""
    if evidence.startswith(_LOWER_FIRST):
        evidence = evidence[0].lower() + evidence[1:]
    return f"Update: {evidence}"


def with_officials(evidence: str) -> str:
    """', officials said.' behind."""
    return f"{evidence.rstrip('.')}, officials said."


def _stories(category: str, stories: Sequence[Story]) -> list[Case]:
    out = []
    for claim, *rest in stories:
        assert len(rest) % 2 == 0, claim
        out.extend(Case(category, claim, evidence, gold) for gold, evidence in zip(rest[::2], rest[1::2], strict=True))
    return out


def _flip(label: str) -> str:
    return {E: C, C: E}[label]


def build() -> list[Case]:
    cases = (_stories("antonym", _ANTONYM) + _stories("context", _CONTEXT) + _stories("agreement", _AGREEMENT)
             + _stories("same-entity", _SAME_ENTITY) + _stories("relay", _RELAY) + _stories("numbers", _NUMBERS))
    for claim, evidence, gold in _INVARIANCE_BASES:
        cases += [Case("invariance", claim, with_update(evidence), gold, evidence),
                  Case("invariance", claim, with_officials(evidence), gold, evidence)]
    for claim, evidence, negated, gold in _DIRECTION:
        cases += [Case("direction", claim, evidence, gold), Case("direction", claim, negated, _flip(gold))]
    return cases


CASES: list[Case] = build()


# --- scoring (shared by tests/judge/test_robustness.py and scripts/robustness.py) ---

def judged_labels(judge: Judge, cases: Sequence[Case]) -> dict[tuple[str, str], str]:
    """The judged label (entails/contradicts/neutral) of every pair the cases need, bases included, through
    :func:`corroborate.judge.reading.judge_pairs` (the path ``check`` and ``stance`` use), in one batch."""
    from corroborate.judge.reading import judge_pairs

    pairs = sorted({(c.claim, c.evidence) for c in cases} | {(c.claim, c.base) for c in cases if c.base})
    results = judge_pairs(judge, pairs)
    return {pair: STANCE_LABEL[r.stance] for pair, r in zip(pairs, results, strict=True)}


def is_right(case: Case, labels: dict[tuple[str, str], str]) -> bool:
    got = labels[(case.claim, case.evidence)]
    if case.base is not None and labels[(case.claim, case.base)] != got:
        return False
    return got == case.gold


def accuracy(cases: Sequence[Case], labels: dict[tuple[str, str], str]) -> dict[str, float]:
    """Per category: the share of its pairs judged right (:func:`is_right`)."""
    right: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for c in cases:
        total[c.category] += 1
        right[c.category] += is_right(c, labels)
    return {cat: right[cat] / total[cat] for cat in CATEGORIES if total[cat]}


def confusion(cases: Sequence[Case], labels: dict[tuple[str, str], str], category: str) -> Counter[tuple[str, str]]:
    """(gold, judged) counts of one category (an invariance pair whose base was judged otherwise counts under
    its own judged label; :func:`accuracy` counts it wrong)."""
    return Counter((c.gold, labels[(c.claim, c.evidence)]) for c in cases if c.category == category)
