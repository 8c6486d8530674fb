"""Short news paragraphs written for these tests, in the languages of the bundled outlets, each with the
language its page declares (``None``: no ``lang`` attribute; a wrong one where CMS defaults lie).

Used by tests/ingest/test_language.py and scripts/measure_language_id.py (the measurement behind the
choice of py3langid in corroborate/ingest/language.py).
"""

from __future__ import annotations

import html

# (true language, declared <html lang>, text)
SAMPLES: list[tuple[str, str | None, str]] = [
    ("de", "en", "Der Stadtrat von Kassel hat am Dienstag beschlossen, die Straßenbahnlinie 4 bis zum neuen "
     "Wohngebiet am Lindenberg zu verlängern. Die Bauarbeiten sollen im Frühjahr beginnen und rund zwei Jahre "
     "dauern. Oberbürgermeisterin Anna Keller sagte, die Stadt habe die Finanzierung mit dem Land gesichert."),
    ("de", None, "Nach dem Hochwasser an der Elbe bleiben mehrere Schulen in Pirna auch in der kommenden Woche "
     "geschlossen. Das Landratsamt teilte mit, dass die Gebäude erst nach einer Prüfung durch Statiker wieder "
     "geöffnet werden. Eltern können ihre Kinder in einer Notbetreuung im Rathaus anmelden."),
    ("fr", None, "Le conseil municipal de Lyon a voté mardi soir la création de trois nouvelles pistes cyclables "
     "le long du Rhône. Les travaux commenceront au printemps et dureront environ dix-huit mois. Selon la mairie, "
     "le trafic automobile a baissé de douze pour cent dans le centre depuis l'an dernier."),
    ("es", "es", "El gobierno regional de Aragón anunció el lunes un plan para modernizar los regadíos de la cuenca "
     "del Ebro. La inversión, de unos cuarenta millones de euros, se repartirá durante cuatro años. Los "
     "agricultores de la zona llevaban meses reclamando ayudas por la sequía."),
    ("it", None, "Il consiglio comunale di Bologna ha approvato ieri il nuovo piano per il traffico nel centro "
     "storico. Dal prossimo mese le auto non potranno entrare nella zona universitaria dopo le otto di sera. "
     "Il sindaco ha detto che la misura sarà valutata di nuovo entro la fine dell'anno."),
    ("nl", None, "De gemeenteraad van Utrecht heeft dinsdag ingestemd met de bouw van een nieuwe fietsbrug over het "
     "Amsterdam-Rijnkanaal. De brug moet over drie jaar klaar zijn en kost ongeveer achttien miljoen euro. "
     "Volgens de wethouder fietsen er dagelijks meer dan twintigduizend mensen over de oude brug."),
    ("pt", None, "A prefeitura de Curitiba anunciou nesta segunda-feira a ampliação do horário dos ônibus noturnos "
     "em doze linhas. A medida começa a valer no próximo mês e deve atender cerca de trinta mil passageiros. "
     "Segundo o secretário de transportes, a frota também receberá novos veículos elétricos."),
    ("pl", None, "Rada miasta Krakowa zdecydowała we wtorek o budowie nowej linii tramwajowej do Mistrzejowic. "
     "Prace mają się rozpocząć wiosną i potrwać około dwóch lat. Prezydent miasta powiedział, że inwestycja "
     "zostanie w dużej części sfinansowana ze środków unijnych."),
    ("sv", None, "Kommunfullmäktige i Umeå beslutade på tisdagen att bygga en ny simhall vid älven. Bygget ska "
     "påbörjas i vår och beräknas ta ungefär två år. Kommunalrådet sade att den gamla simhallen har varit i "
     "dåligt skick under lång tid och måste rivas."),
    ("no", None, "Bystyret i Bergen vedtok tirsdag å bygge en ny bybanelinje til Åsane. Arbeidet skal etter planen "
     "starte til våren og ta omtrent fire år. Byrådslederen sa at prosjektet er det største i byens historie og "
     "at staten skal betale halvparten av kostnadene."),
    ("fi", None, "Tampereen kaupunginvaltuusto päätti tiistaina rakentaa uuden uimahallin Hervantaan. Rakennustyöt "
     "alkavat keväällä ja kestävät noin kaksi vuotta. Pormestarin mukaan vanha uimahalli on ollut huonossa "
     "kunnossa jo pitkään, ja se puretaan uuden valmistuttua."),
    ("tr", None, "İzmir Büyükşehir Belediyesi salı günü körfezdeki yeni feribot hattı için ihale açtı. Hattın "
     "gelecek yılın yazında hizmete girmesi ve günde yaklaşık on bin yolcu taşıması bekleniyor. Belediye başkanı, "
     "yeni gemilerin tamamen elektrikli olacağını söyledi."),
    ("cs", None, "Zastupitelstvo Brna v úterý schválilo stavbu nové tramvajové trati do Bohunic. Práce mají začít "
     "na jaře a potrvají zhruba dva roky. Primátorka uvedla, že město získalo na stavbu peníze z evropských "
     "fondů a část zaplatí kraj."),
    ("ru", None, "Городская дума Казани во вторник одобрила строительство новой линии метро до района Азино. Работы "
     "начнутся весной и продлятся около четырёх лет. По словам мэра, большую часть расходов возьмёт на себя "
     "федеральный бюджет."),
    ("uk", None, "Міська рада Львова у вівторок ухвалила рішення про будівництво нової трамвайної лінії на Сихів. "
     "Роботи розпочнуться навесні й триватимуть приблизно два роки. Міський голова сказав, що частину коштів "
     "надасть Європейський інвестиційний банк."),
    ("ja", "ja", (
        "札幌市は火曜日、市電を新しい住宅地まで延伸する計画を発表した。工事は来年の春に始"
        "まり、約二年かかる見込みだという。市長は記者会見で、高齢者の移動手段を確保するた"
        "めに必要な事業だと述べた。国も費用の一部を負担する。地元の商店街からは期待の声が"
        "上がっている。"
    )),
    ("zh", None, (
        "成都市政府周二宣布，将在明年春天开工建设一条通往新机场的地铁线路。工程预计需要四"
        "年时间，总投资约两百亿元。市长表示，新线路开通后，从市中心到机场只需要三十分钟。"
        "沿线居民对这一计划普遍表示欢迎，但也有人担心施工期间的交通问题。"
    )),
    ("ko", None, (
        "부산시는 화요일 새로운 해안 트램 노선을 건설하겠다고 발표했다. 공사는 "
        "내년 봄에 시작되어 약 3년이 걸릴 예정이다. 시장은 기자회견에서 이 사"
        "업이 관광객과 시민 모두에게 도움이 될 것이라고 말했다. 정부도 비용의 "
        "일부를 부담하기로 했다."
    )),
    ("ar", None, "أعلنت بلدية عمّان يوم الثلاثاء عن خطة لبناء خط جديد للحافلات السريعة يربط وسط المدينة بالمطار. ومن "
     "المتوقع أن تبدأ الأعمال في الربيع المقبل وأن تستمر نحو عامين. وقال رئيس البلدية إن المشروع سيخفف الازدحام "
     "في الشوارع الرئيسية."),
    ("id", None, "Pemerintah Kota Bandung pada hari Selasa mengumumkan rencana pembangunan jalur bus listrik baru "
     "yang menghubungkan pusat kota dengan terminal Leuwipanjang. Pekerjaan akan dimulai tahun depan dan "
     "diperkirakan selesai dalam dua tahun. Wali kota mengatakan proyek ini akan mengurangi kemacetan."),
    ("en", "de", "The city council of Leeds voted on Tuesday to extend the northern bus corridor to the new housing "
     "estate at Thorpe Park. Work is due to start in the spring and should take about two years. The council "
     "leader said the money had been agreed with the regional transport authority."),
    ("en", None, "Regulators in Ohio approved a plan on Monday to close two coal-fired power plants by 2030, "
     "replacing them with solar farms and battery storage. The utility said the change would cut customer bills "
     "slightly over the next decade. Environmental groups welcomed the decision."),
]


def sample_page(declared: str | None, text: str, title: str = "Nachrichten") -> str:
    """``text`` as a small article page declaring ``declared`` (or no language)."""
    lang = f' lang="{declared}"' if declared else ""
    paragraphs = "".join(f"<p>{html.escape(s.strip())}.</p>\n" for s in text.split(". ") if s.strip())
    return (
        f'<!DOCTYPE html>\n<html{lang}><head><meta charset="utf-8"><title>{html.escape(title)}</title></head>'
        f"<body><article><h1>{html.escape(title)}</h1>\n{paragraphs}</article></body></html>\n"
    )
