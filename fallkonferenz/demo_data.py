"""Fictional demo data for Kreis Musterstadt (no real persons)."""

from __future__ import annotations

CASES: list[dict] = [
    {
        "given_name": "Sohrab",
        "family_name": "Amiri",
        "birth_date": "2003-05-14",
        "nationality": "afghanisch",
        "languages": ["Dari", "Paschtu", "Deutsch (A1)"],
        "interpreter_needed": True,
        "address": "Am Mühlbach 7, 12345 Musterstadt",
        "phone": "0151 4827316",
        "residence_status": "Duldung",
        "residence_valid_until": "2027-02-28",
        "lead_agency": "KI",
        "rechtskreise": ["AsylbLG", "AufenthG"],
        "fields": ["sprache", "aufenthalt", "arbeit"],
        "situation": "Nach negativem Abschluss des Asylverfahrens geduldet und deshalb ohne "
        "Zugang zum Integrationskurs; die Deutschkenntnisse stagnieren auf A1, eine "
        "Arbeitsaufnahme scheitert bislang an der ungeklärten Identität.",
        "notes": [
            {
                "agency": "KI",
                "category": "bildung_arbeit",
                "days_ago": 62,
                "text": "Antrag auf Zulassung zum Integrationskurs vom BAMF abgelehnt, die "
                "Duldung eröffnet keinen Zugang. Herr A. besucht zweimal wöchentlich den "
                "ehrenamtlichen Deutschkurs im Begegnungscafé. Ob ein Berufssprachkurs "
                "mit Spezialmodul möglich ist, wird geprüft.",
            },
            {
                "agency": "ABH",
                "category": "aufenthalt",
                "days_ago": 45,
                "text": "Duldung um drei Monate verlängert. Herr A. wurde erneut auf seine "
                "Mitwirkungspflicht bei der Passbeschaffung hingewiesen; eine Tazkira "
                "liegt vor, ein Termin beim Generalkonsulat steht aus. Ohne geklärte "
                "Identität wird keine Beschäftigungserlaubnis erteilt.",
            },
            {
                "agency": "AA",
                "category": "bildung_arbeit",
                "days_ago": 30,
                "text": "Beratungsgespräch mit Sprachmittlung geführt. Der Klient hat in "
                "Afghanistan drei Jahre als Fliesenleger gearbeitet und interessiert sich "
                "für eine Einstiegsqualifizierung im Handwerk. Vermittlung erst sinnvoll, "
                "wenn eine Beschäftigungserlaubnis in Aussicht steht.",
            },
            {
                "agency": "KI",
                "category": "stammdaten",
                "days_ago": 12,
                "text": "Neue Handynummer aufgenommen. Der Klient wohnt weiterhin in der "
                "Gemeinschaftsunterkunft, ein Umzug in eine Wohnung ist derzeit nicht "
                "absehbar.",
            },
        ],
        "goals": [
            {
                "goal": "Termin beim Generalkonsulat zur Passbeschaffung wahrnehmen",
                "field": "aufenthalt",
                "agency": "ABH",
                "due_in_days": 40,
                "status": "in_arbeit",
            },
            {
                "goal": "Deutschkenntnisse auf A2 verbessern",
                "field": "sprache",
                "agency": "KI",
                "due_in_days": 150,
                "status": "in_arbeit",
            },
            {
                "goal": "Einstiegsqualifizierung im Fliesenlegerhandwerk anbahnen",
                "field": "arbeit",
                "agency": "AA",
                "due_in_days": 210,
                "status": "offen",
            },
        ],
        "consent": {
            "kind": "full",
            "agencies": ["KI", "ABH", "AA"],
            "grantor": "client",
            "interpreter_used": True,
            "purpose": "Abstimmung des Integrationsplans in der Fallkonferenz",
        },
    },
    {
        "given_name": "Yamen",
        "family_name": "Al-Khatib",
        "birth_date": "2005-11-02",
        "nationality": "syrisch",
        "languages": ["Arabisch", "Englisch", "Deutsch (B1)"],
        "interpreter_needed": False,
        "address": "Kastanienallee 23, 12351 Beispielheim",
        "phone": "0176 3152948",
        "residence_status": "Aufenthaltserlaubnis § 25 Abs. 2 AufenthG",
        "residence_valid_until": "2028-09-30",
        "lead_agency": "JC",
        "rechtskreise": ["SGB II", "AufenthG"],
        "fields": ["schule_ausbildung", "aufenthalt", "wohnen"],
        "situation": "Für eine Ausbildung zum Elektroniker in Großenfeld im Nachbarkreis liegt "
        "eine Zusage vor, die Wohnsitzauflage nach § 12a AufenthG bindet den "
        "Klienten aber an den Kreis Musterstadt.",
        "notes": [
            {
                "agency": "AA",
                "category": "bildung_arbeit",
                "days_ago": 50,
                "text": "Der Ausbildungsbetrieb in Großenfeld hat nach dem Praktikum eine Zusage "
                "zum 1. Februar erteilt, möchte den Vertrag aber erst unterschreiben, "
                "wenn der Umzug geklärt ist. Tägliches Pendeln mit Bus und Bahn dauert "
                "über zwei Stunden je Strecke.",
            },
            {
                "agency": "JC",
                "category": "leistungen",
                "days_ago": 41,
                "text": "Herr A. bezieht weiterhin Bürgergeld. Eine Zusicherung für Umzugskosten "
                "kann erst nach Aufhebung der Wohnsitzauflage geprüft werden; "
                "Berufsausbildungsbeihilfe für die Ausbildungszeit mit der Agentur für "
                "Arbeit abgestimmt.",
            },
            {
                "agency": "ABH",
                "category": "aufenthalt",
                "days_ago": 33,
                "text": "Antrag auf Aufhebung der Wohnsitzauflage nach § 12a Abs. 5 AufenthG "
                "liegt vor. Für die Entscheidung werden der Ausbildungsvertrag und die "
                "Zustimmung der Ausländerbehörde am Zuzugsort benötigt, die Anfrage "
                "dorthin ist gestellt.",
            },
            {
                "agency": "KI",
                "category": "leistungen",
                "days_ago": 20,
                "text": "In der Fallkonferenz wurde das Henne-Ei-Problem besprochen: Der Betrieb "
                "stellt eine schriftliche Einstellungszusage aus, damit die ABH vorab "
                "entscheiden kann. Der Klient sucht parallel über das Azubiwerk in "
                "Großenfeld ein Zimmer.",
            },
        ],
        "goals": [
            {
                "goal": "Ausbildungsvertrag zum Elektroniker unterschreiben",
                "field": "schule_ausbildung",
                "agency": "AA",
                "due_in_days": 45,
                "status": "in_arbeit",
            },
            {
                "goal": "Aufhebung der Wohnsitzauflage erwirken",
                "field": "aufenthalt",
                "agency": "ABH",
                "due_in_days": 30,
                "status": "in_arbeit",
            },
            {
                "goal": "Zimmer oder WG-Platz in Großenfeld finden",
                "field": "wohnen",
                "agency": "KI",
                "due_in_days": 70,
                "status": "offen",
            },
        ],
        "consent": {
            "kind": "full",
            "agencies": ["KI", "JC", "AA", "ABH"],
            "grantor": "client",
            "interpreter_used": False,
            "purpose": "Abstimmung des Integrationsplans in der Fallkonferenz",
        },
    },
    {
        "given_name": "Senait",
        "family_name": "Tesfay",
        "birth_date": "2002-08-21",
        "nationality": "eritreisch",
        "languages": ["Tigrinya", "Deutsch (A1)"],
        "interpreter_needed": True,
        "address": "Gartenweg 4, 12359 Talhausen",
        "phone": "0160 7734215",
        "residence_status": "Aufenthaltserlaubnis § 25 Abs. 2 AufenthG",
        "residence_valid_until": "2029-01-31",
        "lead_agency": "JC",
        "rechtskreise": ["SGB II", "SGB VIII"],
        "fields": ["sprache", "familie", "mobilitaet", "gesundheit"],
        "situation": "Alleinerziehende Mutter einer zweijährigen Tochter, die zum "
        "Integrationskurs verpflichtet ist, ihn ohne Kinderbetreuung aber nicht "
        "beginnen kann.",
        "notes": [
            {
                "agency": "JC",
                "category": "leistungen",
                "days_ago": 70,
                "text": "Verpflichtung zum Integrationskurs ausgesprochen. Frau T. legt glaubhaft "
                "dar, dass sie keine Betreuung für ihre Tochter hat; Fehlzeiten werden "
                "vorerst nicht sanktioniert. Ein Kursträger in Musterstadt bietet ab dem "
                "Frühjahr einen Elternintegrationskurs mit Kinderbetreuung an.",
            },
            {
                "agency": "JA",
                "category": "familie",
                "days_ago": 48,
                "text": "Antrag auf einen Betreuungsplatz für die Tochter aufgenommen. In "
                "Talhausen sind alle Kitaplätze vergeben, die Warteliste reicht bis zum "
                "Sommer. Vermittlung an eine Kindertagespflegeperson wird geprüft.",
            },
            {
                "agency": "KI",
                "category": "gesundheit",
                "days_ago": 35,
                "text": "Die Klientin berichtet im Gespräch mit Sprachmittlerin von "
                "Schlafproblemen und starker Erschöpfung. Anbindung an eine Hausärztin "
                "ist erfolgt, Beratung durch die Frühen Hilfen wurde angeboten und "
                "angenommen.",
            },
            {
                "agency": "KI",
                "category": "bildung_arbeit",
                "days_ago": 21,
                "text": "Anmeldung zum Elternintegrationskurs in Musterstadt erfolgt, "
                "Kinderbetreuung im Kursgebäude ist zugesagt. Die Busfahrt aus Talhausen "
                "dauert rund 40 Minuten, Fahrtkostenerstattung über den Kursträger "
                "beantragt.",
            },
            {
                "agency": "JA",
                "category": "familie",
                "days_ago": 9,
                "text": "Kindertagespflege ab dem nächsten Monat mit 25 Wochenstunden bewilligt. "
                "Die Eingewöhnung begleitet die Tagesmutter, Frau T. ist in den ersten "
                "zwei Wochen dabei.",
            },
        ],
        "goals": [
            {
                "goal": "Betreuungsplatz für die Tochter sichern",
                "field": "familie",
                "agency": "JA",
                "due_in_days": 30,
                "status": "in_arbeit",
            },
            {
                "goal": "Elternintegrationskurs mit Kinderbetreuung beginnen",
                "field": "sprache",
                "agency": "KI",
                "due_in_days": 120,
                "status": "offen",
            },
            {
                "goal": "Fahrtkostenerstattung für den Kursweg klären",
                "field": "mobilitaet",
                "agency": "KI",
                "due_in_days": -10,
                "status": "erreicht",
            },
        ],
        "consent": {
            "kind": "partial_no_health",
            "agencies": ["KI", "JC", "JA"],
            "grantor": "client",
            "interpreter_used": True,
            "purpose": "Koordinierung von Kinderbetreuung und Integrationskurs",
        },
    },
    {
        "given_name": "Lamin",
        "family_name": "Ceesay",
        "birth_date": "2001-12-09",
        "nationality": "gambisch",
        "languages": ["Mandinka", "Englisch", "Deutsch (A2)"],
        "interpreter_needed": False,
        "address": "Bahnhofstraße 31, 12356 Nordbach",
        "phone": "0152 2948173",
        "residence_status": "Aufenthaltsgestattung",
        "residence_valid_until": "2027-03-31",
        "lead_agency": "AA",
        "rechtskreise": ["SGB III", "AsylbLG", "AufenthG"],
        "fields": ["arbeit", "aufenthalt", "sprache"],
        "situation": "Ein Metallbetrieb in Nordbach will den Klienten als Produktionshelfer "
        "einstellen, die Beschäftigungserlaubnis liegt aber seit über vier Monaten "
        "zur Bearbeitung bei der Ausländerbehörde.",
        "notes": [
            {
                "agency": "AA",
                "category": "bildung_arbeit",
                "days_ago": 130,
                "text": "Stellenangebot als Produktionshelfer in Vollzeit liegt vor, der "
                "Arbeitgeber hält die Stelle vorerst frei. Antrag auf "
                "Beschäftigungserlaubnis mit Stellenbeschreibung an die ABH "
                "weitergeleitet.",
            },
            {
                "agency": "ABH",
                "category": "aufenthalt",
                "days_ago": 95,
                "text": "Antrag eingegangen, Zustimmung der Bundesagentur für Arbeit angefragt. "
                "Für die Entscheidung fehlt noch eine Kopie der Aufenthaltsgestattung mit "
                "aktueller Adresse.",
            },
            {
                "agency": "AA",
                "category": "bildung_arbeit",
                "days_ago": 60,
                "text": "Zustimmung der BA liegt seit drei Wochen vor. Der Arbeitgeber hat "
                "nachgefragt und hält die Stelle nur noch bis Monatsende frei. Der Klient "
                "ist verunsichert und fragt nach Alternativen.",
            },
            {
                "agency": "KI",
                "category": "stammdaten",
                "days_ago": 40,
                "text": "Fehlende Unterlage gemeinsam mit dem Klienten bei der ABH abgegeben, "
                "Eingangsbestätigung liegt vor. Herr C. besucht weiterhin den "
                "Integrationskurs, derzeit Modul 4.",
            },
            {
                "agency": "ABH",
                "category": "aufenthalt",
                "days_ago": 14,
                "text": "Bearbeitung wegen Personalengpass verzögert. Entscheidung innerhalb der "
                "nächsten zwei Wochen zugesagt, der Arbeitgeber wurde auf Wunsch des "
                "Klienten informiert.",
            },
        ],
        "goals": [
            {
                "goal": "Beschäftigungserlaubnis erteilen",
                "field": "aufenthalt",
                "agency": "ABH",
                "due_in_days": -20,
                "status": "in_arbeit",
            },
            {
                "goal": "Arbeitsaufnahme als Produktionshelfer",
                "field": "arbeit",
                "agency": "AA",
                "due_in_days": 30,
                "status": "offen",
            },
            {
                "goal": "Integrationskurs mit Prüfung B1 abschließen",
                "field": "sprache",
                "agency": "KI",
                "due_in_days": 160,
                "status": "in_arbeit",
            },
        ],
        "consent": {
            "kind": "expired",
            "agencies": ["AA", "ABH", "KI"],
            "grantor": "client",
            "interpreter_used": False,
            "purpose": "Vermittlung in Arbeit und Klärung der Beschäftigungserlaubnis",
        },
    },
    {
        "given_name": "Hodan",
        "family_name": "Warsame",
        "birth_date": "2004-07-30",
        "nationality": "somalisch",
        "languages": ["Somali", "Englisch", "Deutsch (B1)"],
        "interpreter_needed": False,
        "address": "Wiesenstraße 9, 12356 Nordbach",
        "phone": "0157 3381046",
        "residence_status": "Aufenthaltserlaubnis § 25 Abs. 2 AufenthG",
        "residence_valid_until": "2028-04-30",
        "lead_agency": "AA",
        "rechtskreise": ["SGB III", "SGB II"],
        "fields": ["schule_ausbildung", "mobilitaet"],
        "situation": "Macht eine Ausbildung als Bäckereifachverkäuferin in Talhausen, erreicht "
        "den Betrieb zum Schichtbeginn um 5:30 Uhr aber nicht, weil der erste Bus "
        "später fährt und kein Ticket finanziert ist.",
        "notes": [
            {
                "agency": "AA",
                "category": "bildung_arbeit",
                "days_ago": 85,
                "text": "Ausbildungsvertrag zur Fachverkäuferin im Lebensmittelhandwerk, "
                "Schwerpunkt Bäckerei, unterschrieben. Antrag auf "
                "Berufsausbildungsbeihilfe einschließlich Fahrtkosten ausgegeben, "
                "Unterlagen sind noch unvollständig.",
            },
            {
                "agency": "KI",
                "category": "leistungen",
                "days_ago": 38,
                "text": "Fahrplan geprüft: Der erste Bus ab Nordbach erreicht Talhausen erst um "
                "6:20 Uhr, Frau W. hat keinen Führerschein. Die Fahrradwerkstatt des "
                "Integrationsvereins stellt ein gebrauchtes Rad bereit, die 9 km sind im "
                "Winter aber kaum zumutbar.",
            },
            {
                "agency": "JC",
                "category": "leistungen",
                "days_ago": 30,
                "text": "Kosten für das Deutschlandticket werden für drei Monate aus dem "
                "Vermittlungsbudget übernommen. Das ergänzende Bürgergeld wird nach "
                "Eingang der Ausbildungsvergütung neu berechnet.",
            },
            {
                "agency": "AA",
                "category": "bildung_arbeit",
                "days_ago": 16,
                "text": "Der Betrieb meldet wiederholte Verspätungen, die Probezeit endet in vier "
                "Wochen. Angebot des Betriebs: Schichtbeginn vorübergehend 6:30 Uhr. Eine "
                "Mitfahrgelegenheit mit einer Kollegin aus Nordbach wird geprüft.",
            },
        ],
        "goals": [
            {
                "goal": "Probezeit erfolgreich abschließen",
                "field": "schule_ausbildung",
                "agency": "AA",
                "due_in_days": 28,
                "status": "in_arbeit",
            },
            {
                "goal": "Fahrtkosten dauerhaft über BAB sichern",
                "field": "mobilitaet",
                "agency": "AA",
                "due_in_days": 45,
                "status": "offen",
            },
            {
                "goal": "Verlässliche Verbindung zum Schichtbeginn organisieren",
                "field": "mobilitaet",
                "agency": "KI",
                "due_in_days": 14,
                "status": "in_arbeit",
            },
        ],
        "consent": {
            "kind": "expiring_soon",
            "agencies": ["AA", "JC", "KI"],
            "grantor": "client",
            "interpreter_used": False,
            "purpose": "Sicherung der Ausbildung und der Fahrtkosten",
        },
    },
    {
        "given_name": "Elyas",
        "family_name": "Hashimi",
        "birth_date": "2008-09-18",
        "nationality": "afghanisch",
        "languages": ["Dari", "Deutsch (B1)"],
        "interpreter_needed": False,
        "address": "Birkenweg 2, 12345 Musterstadt",
        "phone": "0151 6620934",
        "residence_status": "Aufenthaltserlaubnis § 25 Abs. 3 AufenthG",
        "residence_valid_until": "2027-08-31",
        "lead_agency": "JA",
        "rechtskreise": ["SGB VIII", "SGB II", "AufenthG"],
        "fields": ["wohnen", "schule_ausbildung", "aufenthalt"],
        "situation": "Als unbegleiteter Minderjähriger eingereist und seit kurzem volljährig; die "
        "Hilfe für junge Volljährige nach § 41 SGB VIII läuft, der Wechsel aus der "
        "Wohngruppe in eigenen Wohnraum und in den Leistungsbezug des Jobcenters "
        "steht an.",
        "notes": [
            {
                "agency": "KI",
                "category": "bildung_arbeit",
                "days_ago": 95,
                "text": "Der Klient besucht die Internationale Förderklasse am Berufskolleg "
                "Musterstadt und strebt im Sommer den Hauptschulabschluss nach Klasse 10 "
                "an. Die Lehrkräfte berichten von guter Mitarbeit, Mathematik ist noch "
                "schwach.",
            },
            {
                "agency": "JA",
                "category": "familie",
                "days_ago": 60,
                "text": "Vormundschaft mit Eintritt der Volljährigkeit beendet. Im "
                "Hilfeplangespräch wünscht Herr H. die Fortsetzung der Hilfe; Hilfe für "
                "junge Volljährige nach § 41 SGB VIII zunächst für zwölf Monate "
                "bewilligt, Schwerpunkt Verselbständigung.",
            },
            {
                "agency": "ABH",
                "category": "aufenthalt",
                "days_ago": 50,
                "text": "Aufenthaltserlaubnis nach § 25 Abs. 3 AufenthG liegt vor, die "
                "Verlängerung ist rechtzeitig vor Ablauf zu beantragen. Ein Nationalpass "
                "fehlt weiterhin, Ausweisersatz wurde ausgestellt.",
            },
            {
                "agency": "JA",
                "category": "familie",
                "days_ago": 20,
                "text": "Platz in einer Trainingswohnung mit ambulanter Betreuung ab dem nächsten "
                "Quartal zugesagt. Bürgergeld soll mit dem Auszug aus der Wohngruppe "
                "beantragt werden, ein Übergabegespräch mit dem Jobcenter ist geplant.",
            },
        ],
        "goals": [
            {
                "goal": "Hauptschulabschluss nach Klasse 10 erreichen",
                "field": "schule_ausbildung",
                "agency": "KI",
                "due_in_days": 230,
                "status": "in_arbeit",
            },
            {
                "goal": "Umzug in die Trainingswohnung mit ambulanter Betreuung",
                "field": "wohnen",
                "agency": "JA",
                "due_in_days": 90,
                "status": "offen",
            },
            {
                "goal": "Verlängerung der Aufenthaltserlaubnis beantragen",
                "field": "aufenthalt",
                "agency": "ABH",
                "due_in_days": 200,
                "status": "offen",
            },
        ],
        "consent": {
            "kind": "expired",
            "agencies": ["JA", "KI", "ABH"],
            "grantor": "guardian",
            "guardian_name": "Herr T. Brandt (Amtsvormund, Jugendamt Kreis Musterstadt)",
            "interpreter_used": False,
            "purpose": "Abstimmung der Hilfeplanung und der schulischen Begleitung",
        },
    },
    {
        "given_name": "Parisa",
        "family_name": "Moradi",
        "birth_date": "2000-06-25",
        "nationality": "iranisch",
        "languages": ["Persisch", "Englisch", "Deutsch (B2)"],
        "interpreter_needed": False,
        "address": "Schulstraße 15, 12345 Musterstadt",
        "phone": "0170 5512389",
        "residence_status": "Niederlassungserlaubnis",
        "residence_valid_until": None,
        "lead_agency": "KI",
        "rechtskreise": ["SGB II"],
        "fields": ["schule_ausbildung", "sprache", "arbeit"],
        "situation": "Das im Iran erworbene Abiturzeugnis ist noch nicht anerkannt; die Klientin "
        "möchte studieren oder eine Ausbildung zur PTA beginnen und arbeitet bis "
        "dahin in Teilzeit im Einzelhandel.",
        "notes": [
            {
                "agency": "KI",
                "category": "bildung_arbeit",
                "days_ago": 90,
                "text": "Erstberatung zur Zeugnisanerkennung. Diplom und Pre-University-Zeugnis "
                "liegen im Original vor, beglaubigte Übersetzungen fehlen noch. Antrag "
                "bei der Zeugnisanerkennungsstelle wird vorbereitet.",
            },
            {
                "agency": "JC",
                "category": "leistungen",
                "days_ago": 66,
                "text": "Kosten für zwei beglaubigte Übersetzungen werden aus dem "
                "Vermittlungsbudget übernommen. Frau M. arbeitet 20 Stunden pro Woche im "
                "Einzelhandel und bezieht ergänzend Bürgergeld.",
            },
            {
                "agency": "KI",
                "category": "bildung_arbeit",
                "days_ago": 28,
                "text": "Bescheid der Zeugnisanerkennungsstelle eingegangen: Das Zeugnis wird als "
                "fachgebundene Hochschulzugangsberechtigung bewertet. Für ein Studium ist "
                "zusätzlich ein Sprachnachweis auf Niveau C1 erforderlich.",
            },
            {
                "agency": "AA",
                "category": "bildung_arbeit",
                "days_ago": 14,
                "text": "Studien- und Berufsberatung durchgeführt. Als Alternative zum Studium "
                "wurde die schulische Ausbildung zur PTA besprochen; die Bewerbungsfrist "
                "der Berufsfachschule endet in sechs Wochen.",
            },
        ],
        "goals": [
            {
                "goal": "Anerkennung des Schulabschlusses abschließen",
                "field": "schule_ausbildung",
                "agency": "KI",
                "due_in_days": -10,
                "status": "erreicht",
            },
            {
                "goal": "Sprachnachweis C1 im Berufssprachkurs erwerben",
                "field": "sprache",
                "agency": "JC",
                "due_in_days": 180,
                "status": "in_arbeit",
            },
            {
                "goal": "Bewerbung für PTA-Ausbildung oder Studienplatz einreichen",
                "field": "schule_ausbildung",
                "agency": "AA",
                "due_in_days": 40,
                "status": "offen",
            },
        ],
        "consent": {
            "kind": "full",
            "agencies": ["KI", "JC", "AA"],
            "grantor": "client",
            "interpreter_used": False,
            "purpose": "Begleitung der Zeugnisanerkennung und der Berufswegeplanung",
        },
    },
    {
        "given_name": "Dilshad",
        "family_name": "Hasan",
        "birth_date": "2002-03-11",
        "nationality": "irakisch",
        "languages": ["Kurmandschi", "Arabisch", "Deutsch (B1)"],
        "interpreter_needed": False,
        "address": "Ringstraße 48, 12351 Beispielheim",
        "phone": "0162 8047715",
        "residence_status": "Aufenthaltserlaubnis § 25 Abs. 2 AufenthG",
        "residence_valid_until": "2027-11-30",
        "lead_agency": "JC",
        "rechtskreise": ["SGB II"],
        "fields": ["wohnen", "arbeit"],
        "situation": "Die Wohnung wurde wegen Eigenbedarfs gekündigt; innerhalb der "
        "Mietobergrenze findet der Klient keine neue Wohnung, die Unterbringung in "
        "der Notunterkunft droht.",
        "notes": [
            {
                "agency": "JC",
                "category": "leistungen",
                "days_ago": 80,
                "text": "Kündigung wegen Eigenbedarfs zum Ende des übernächsten Monats vorgelegt. "
                "Angemessenheitsgrenze für einen Einpersonenhaushalt erläutert; "
                "Mietangebote sind vor der Unterschrift zur Prüfung vorzulegen.",
            },
            {
                "agency": "KI",
                "category": "leistungen",
                "days_ago": 52,
                "text": "Wohnberechtigungsschein beantragt. Herr H. hat sich auf zwölf Anzeigen "
                "beworben, bisher zwei Besichtigungen ohne Zusage. Kontakt zur Fachstelle "
                "für Wohnungsnotfälle hergestellt.",
            },
            {
                "agency": "JC",
                "category": "bildung_arbeit",
                "days_ago": 34,
                "text": "Der Klient arbeitet seit drei Monaten als Lagerhelfer auf Minijob-Basis. "
                "Eine Aufstockung auf Teilzeit ist im Gespräch und würde die Chancen bei "
                "Vermietern verbessern.",
            },
            {
                "agency": "KI",
                "category": "leistungen",
                "days_ago": 7,
                "text": "Der Auszugstermin rückt näher. Die Gemeinde Beispielheim hat vorsorglich "
                "einen Platz in der Notunterkunft reserviert, die Einlagerung der Möbel "
                "ist ungeklärt.",
            },
        ],
        "goals": [
            {
                "goal": "Neue Wohnung innerhalb der Mietobergrenze finden",
                "field": "wohnen",
                "agency": "KI",
                "due_in_days": 25,
                "status": "in_arbeit",
            },
            {
                "goal": "Mietkaution und Umzugskosten zusichern",
                "field": "wohnen",
                "agency": "JC",
                "due_in_days": 30,
                "status": "offen",
            },
            {
                "goal": "Aufstockung auf Teilzeitbeschäftigung",
                "field": "arbeit",
                "agency": "JC",
                "due_in_days": 60,
                "status": "offen",
            },
        ],
        "consent": {
            "kind": "revoked",
            "agencies": ["JC", "KI"],
            "grantor": "client",
            "interpreter_used": False,
            "purpose": "Unterstützung bei der Wohnungssuche",
        },
    },
    {
        "given_name": "Rami",
        "family_name": "Suleiman",
        "birth_date": "2004-01-27",
        "nationality": "syrisch",
        "languages": ["Arabisch", "Deutsch (A2)"],
        "interpreter_needed": True,
        "address": "Eichenweg 3, 12359 Talhausen",
        "phone": "0176 4490217",
        "residence_status": "Aufenthaltserlaubnis § 25 Abs. 2 AufenthG",
        "residence_valid_until": "2028-06-30",
        "lead_agency": "KI",
        "rechtskreise": ["SGB II", "AufenthG"],
        "fields": ["gesundheit", "sprache", "arbeit"],
        "situation": "Hat den Integrationskurs wegen Konzentrationsproblemen und Albträumen nach "
        "Kriegs- und Fluchterlebnissen abgebrochen und wartet auf einen "
        "Therapieplatz mit Sprachmittlung.",
        "notes": [
            {
                "agency": "KI",
                "category": "bildung_arbeit",
                "days_ago": 100,
                "text": "Der Kursträger meldet hohe Fehlzeiten in Modul 3. Im Gespräch berichtet "
                "Herr S., dass er nachts kaum schläft und sich im Unterricht nicht "
                "konzentrieren kann. Unterbrechung des Kurses mit dem Träger abgestimmt.",
            },
            {
                "agency": "KI",
                "category": "gesundheit",
                "days_ago": 85,
                "text": "Mit Einverständnis des Klienten Kontakt zum Psychosozialen Zentrum "
                "aufgenommen. Erstgespräch mit arabischsprachiger Sprachmittlerin hat "
                "stattgefunden; Verdacht auf posttraumatische Belastungsstörung, "
                "Wartezeit für eine Therapie etwa fünf Monate.",
            },
            {
                "agency": "JC",
                "category": "leistungen",
                "days_ago": 70,
                "text": "Ärztliche Bescheinigung liegt vor. Kooperationsplan angepasst: Die "
                "Teilnahme am Integrationskurs ruht vorerst, Vermittlungsaktivitäten "
                "werden zurückgestellt. Nächster Termin in drei Monaten.",
            },
            {
                "agency": "KI",
                "category": "gesundheit",
                "days_ago": 30,
                "text": "Herr S. besucht einmal wöchentlich die Stabilisierungsgruppe des "
                "Psychosozialen Zentrums und schläft nach eigener Aussage besser. Die "
                "hausärztliche Medikation wird fortgeführt.",
            },
            {
                "agency": "JC",
                "category": "bildung_arbeit",
                "days_ago": 15,
                "text": "Interesse an einem Praktikum in einer Gärtnerei mit geringer "
                "Stundenzahl. Ein Einstieg ist erst nach Rücksprache mit dem "
                "Behandlungsteam sinnvoll.",
            },
        ],
        "goals": [
            {
                "goal": "Therapieplatz mit Sprachmittlung sichern",
                "field": "gesundheit",
                "agency": "KI",
                "due_in_days": 60,
                "status": "in_arbeit",
            },
            {
                "goal": "Wiedereinstieg in den Integrationskurs (Modul 3)",
                "field": "sprache",
                "agency": "KI",
                "due_in_days": 120,
                "status": "offen",
            },
            {
                "goal": "Praktikum in einer Gärtnerei mit reduzierter Stundenzahl",
                "field": "arbeit",
                "agency": "JC",
                "due_in_days": 150,
                "status": "offen",
            },
        ],
        "consent": {
            "kind": "partial_no_health",
            "agencies": ["KI", "JC", "AA", "ABH"],
            "grantor": "client",
            "interpreter_used": True,
            "purpose": "Abstimmung von Sprachförderung und Arbeitsmarktintegration",
        },
    },
    {
        "given_name": "Bohdan",
        "family_name": "Tkachuk",
        "birth_date": "2005-12-03",
        "nationality": "ukrainisch",
        "languages": ["Ukrainisch", "Russisch", "Deutsch (B1)"],
        "interpreter_needed": False,
        "address": "Lindenstraße 12, 12345 Musterstadt",
        "phone": "0159 0163385",
        "residence_status": "Aufenthaltserlaubnis § 24 AufenthG",
        "residence_valid_until": "2027-03-04",
        "lead_agency": "JC",
        "rechtskreise": ["SGB II"],
        "fields": ["schule_ausbildung", "sprache", "familie"],
        "situation": "Lebt mit Mutter und jüngerer Schwester in einer Bedarfsgemeinschaft und "
        "sucht nach dem Berufssprachkurs B1 einen Ausbildungsplatz als "
        "Kfz-Mechatroniker.",
        "notes": [
            {
                "agency": "JC",
                "category": "bildung_arbeit",
                "days_ago": 58,
                "text": "Berufssprachkurs B1 erfolgreich abgeschlossen, das Zertifikat liegt vor. "
                "Herr T. möchte eine Ausbildung zum Kfz-Mechatroniker beginnen und gibt "
                "zwei Praktika in Werkstätten als Vorerfahrung an.",
            },
            {
                "agency": "JC",
                "category": "leistungen",
                "days_ago": 36,
                "text": "Weiterbewilligungsantrag der Bedarfsgemeinschaft bearbeitet. Die Mutter "
                "arbeitet in Teilzeit als Reinigungskraft, das Einkommen wird "
                "angerechnet.",
            },
            {
                "agency": "JC",
                "category": "familie",
                "days_ago": 20,
                "text": "Herr T. betreut nachmittags die jüngere Schwester, solange die Mutter "
                "arbeitet. Bei Ausbildungsbeginn müsste die Betreuung über die Offene "
                "Ganztagsschule gelöst werden; die Mutter kümmert sich um die Anmeldung.",
            },
            {
                "agency": "JC",
                "category": "bildung_arbeit",
                "days_ago": 6,
                "text": "Bewerbungsunterlagen überarbeitet und an drei Autohäuser im Kreis "
                "verschickt. Vorstellungsgespräch in Beispielheim in der kommenden Woche.",
            },
        ],
        "goals": [
            {
                "goal": "Ausbildungsplatz als Kfz-Mechatroniker finden",
                "field": "schule_ausbildung",
                "agency": "JC",
                "due_in_days": 90,
                "status": "in_arbeit",
            },
            {
                "goal": "Nachmittagsbetreuung der Schwester über den Ganztag klären",
                "field": "familie",
                "agency": "JC",
                "due_in_days": 45,
                "status": "offen",
            },
        ],
        "consent": {
            "kind": "none",
            "agencies": [],
            "grantor": "client",
            "interpreter_used": False,
            "purpose": "",
        },
    },
    {
        "given_name": "Ousmane",
        "family_name": "Bah",
        "birth_date": "2003-04-08",
        "nationality": "guineisch",
        "languages": ["Pular", "Französisch", "Deutsch (A2)"],
        "interpreter_needed": True,
        "address": "Hauptstraße 56, 12351 Beispielheim",
        "phone": "0152 7719043",
        "residence_status": "Ausbildungsduldung § 60c AufenthG",
        "residence_valid_until": "2028-07-31",
        "lead_agency": "AA",
        "rechtskreise": ["SGB III", "AsylbLG", "AufenthG"],
        "fields": ["schule_ausbildung", "aufenthalt", "sprache", "gesundheit"],
        "situation": "Im zweiten Ausbildungsjahr zum Koch mit Ausbildungsduldung; die "
        "Berufsschule fällt wegen der Fachsprache schwer, ein Abbruch würde die "
        "aufenthaltsrechtliche Grundlage gefährden.",
        "notes": [
            {
                "agency": "ABH",
                "category": "aufenthalt",
                "days_ago": 140,
                "text": "Ausbildungsduldung für die Dauer der Ausbildung erteilt. Der "
                "Ausbildungsbetrieb wurde auf die Pflicht hingewiesen, einen Abbruch "
                "innerhalb von zwei Wochen zu melden.",
            },
            {
                "agency": "AA",
                "category": "bildung_arbeit",
                "days_ago": 92,
                "text": "Zwischenzeugnis der Berufsschule: Fachtheorie mangelhaft, Praxis im "
                "Betrieb gut. Assistierte Ausbildung mit Nachhilfe und Sprachförderung "
                "zweimal wöchentlich bewilligt.",
            },
            {
                "agency": "KI",
                "category": "gesundheit",
                "days_ago": 40,
                "text": "Nach einer Verbrühung an der Hand im Betrieb drei Wochen arbeitsunfähig. "
                "Der Arbeitsunfall ist der Berufsgenossenschaft gemeldet, die Wunde heilt "
                "gut; Rückkehr in die Küche voraussichtlich Ende des Monats.",
            },
            {
                "agency": "KI",
                "category": "bildung_arbeit",
                "days_ago": 22,
                "text": "Herr B. nimmt zusätzlich am berufsbegleitenden Deutschkurs mit "
                "Fachsprache Gastronomie teil. Der Betrieb hat die Arbeitszeit am Kurstag "
                "angepasst.",
            },
            {
                "agency": "ABH",
                "category": "aufenthalt",
                "days_ago": 8,
                "text": "Identität durch Vorlage des Reisepasses geklärt, Kopie zur Akte "
                "genommen. Ein Wechsel in eine Aufenthaltserlaubnis nach § 16g AufenthG "
                "wird geprüft.",
            },
        ],
        "goals": [
            {
                "goal": "Zwischenprüfung bestehen",
                "field": "schule_ausbildung",
                "agency": "AA",
                "due_in_days": 70,
                "status": "in_arbeit",
            },
            {
                "goal": "Fachsprache Gastronomie auf B1 verbessern",
                "field": "sprache",
                "agency": "KI",
                "due_in_days": 120,
                "status": "in_arbeit",
            },
            {
                "goal": "Aufenthaltserlaubnis nach § 16g AufenthG prüfen",
                "field": "aufenthalt",
                "agency": "ABH",
                "due_in_days": 60,
                "status": "offen",
            },
        ],
        "consent": {
            "kind": "partial_no_health",
            "agencies": ["AA", "ABH", "KI"],
            "grantor": "client",
            "interpreter_used": True,
            "purpose": "Sicherung des Ausbildungserfolgs und der aufenthaltsrechtlichen Perspektive",
        },
    },
    {
        "given_name": "Emeka",
        "family_name": "Nwosu",
        "birth_date": "2000-09-14",
        "nationality": "nigerianisch",
        "languages": ["Igbo", "Englisch", "Deutsch (A2)"],
        "interpreter_needed": False,
        "address": "Am Sportplatz 5, 12356 Nordbach",
        "phone": "0163 5528406",
        "residence_status": "Beschäftigungsduldung § 60d AufenthG",
        "residence_valid_until": "2028-10-31",
        "lead_agency": "ABH",
        "rechtskreise": ["AufenthG", "SGB III"],
        "fields": ["aufenthalt", "arbeit", "familie", "sprache"],
        "situation": "Arbeitet seit zwei Jahren in Vollzeit bei einem Entsorgungsbetrieb und hat "
        "eine Beschäftigungsduldung; offen sind der Sprachnachweis für ein "
        "Bleiberecht und die Kinderbetreuung in der Familie.",
        "notes": [
            {
                "agency": "ABH",
                "category": "aufenthalt",
                "days_ago": 110,
                "text": "Beschäftigungsduldung nach § 60d AufenthG für 30 Monate erteilt, Ehefrau "
                "und Sohn sind einbezogen. Für eine spätere Aufenthaltserlaubnis nach § "
                "25b AufenthG sind unter anderem hinreichende mündliche Deutschkenntnisse "
                "nachzuweisen.",
            },
            {
                "agency": "AA",
                "category": "bildung_arbeit",
                "days_ago": 76,
                "text": "Der Arbeitgeber bestätigt eine unbefristete Beschäftigung mit 39 "
                "Wochenstunden. Herr N. interessiert sich für eine Weiterbildung zum "
                "Berufskraftfahrer, eine Förderung wird geprüft.",
            },
            {
                "agency": "KI",
                "category": "familie",
                "days_ago": 50,
                "text": "Für den dreijährigen Sohn ist ein Kitaplatz in Nordbach ab Januar "
                "zugesagt. Die Ehefrau möchte danach einen Deutschkurs besuchen; passende "
                "Angebote werden recherchiert.",
            },
            {
                "agency": "KI",
                "category": "bildung_arbeit",
                "days_ago": 26,
                "text": "Herr N. hat sich für den Abendkurs Deutsch A2 an der Volkshochschule "
                "angemeldet, die Prüfung findet in vier Monaten statt. Die Kurszeiten "
                "passen zur Frühschicht.",
            },
        ],
        "goals": [
            {
                "goal": "Deutschprüfung A2 bestehen",
                "field": "sprache",
                "agency": "KI",
                "due_in_days": 125,
                "status": "in_arbeit",
            },
            {
                "goal": "Antrag auf Aufenthaltserlaubnis nach § 25b AufenthG vorbereiten",
                "field": "aufenthalt",
                "agency": "ABH",
                "due_in_days": 300,
                "status": "offen",
            },
            {
                "goal": "Kitaplatz für den Sohn sichern",
                "field": "familie",
                "agency": "KI",
                "due_in_days": -20,
                "status": "erreicht",
            },
        ],
        "consent": {
            "kind": "revoked",
            "agencies": ["ABH", "AA", "KI"],
            "grantor": "client",
            "interpreter_used": False,
            "purpose": "Abstimmung der Bleibeperspektive und der beruflichen Weiterentwicklung",
        },
    },
    {
        "given_name": "Baran",
        "family_name": "Yıldız",
        "birth_date": "2005-06-01",
        "nationality": "türkisch",
        "languages": ["Kurmandschi", "Türkisch", "Deutsch (A2)"],
        "interpreter_needed": True,
        "address": "Talstraße 19, 12359 Talhausen",
        "phone": "0157 6203358",
        "residence_status": "Aufenthaltsgestattung",
        "residence_valid_until": "2027-01-15",
        "lead_agency": "KI",
        "rechtskreise": ["AsylbLG", "AufenthG"],
        "fields": ["sprache", "schule_ausbildung", "aufenthalt"],
        "situation": "Das Asylverfahren läuft seit über einem Jahr; der Klient hat keinen "
        "Schulabschluss und möchte neben dem Deutschkurs den Hauptschulabschluss "
        "nachholen.",
        "notes": [
            {
                "agency": "KI",
                "category": "bildung_arbeit",
                "days_ago": 88,
                "text": "Erstorientierungskurs abgeschlossen. Herr Y. hat acht Jahre die Schule "
                "besucht, ein Abschlusszeugnis liegt nicht vor. Er möchte einen "
                "Schulabschluss erwerben und später eine Ausbildung im Elektrobereich "
                "beginnen.",
            },
            {
                "agency": "KI",
                "category": "aufenthalt",
                "days_ago": 47,
                "text": "Die Anhörung beim BAMF hat stattgefunden, eine Entscheidung steht aus. "
                "Hinweis auf die unabhängige Asylverfahrensberatung gegeben.",
            },
            {
                "agency": "KI",
                "category": "bildung_arbeit",
                "days_ago": 18,
                "text": "Aufnahme in den Kurs zum Nachholen des Hauptschulabschlusses an der "
                "Volkshochschule im nächsten Semester möglich, der Einstufungstest ist "
                "bestanden. Der Teilnahmebeitrag wird über Landesmittel übernommen.",
            },
        ],
        "goals": [
            {
                "goal": "Hauptschulabschluss nachholen",
                "field": "schule_ausbildung",
                "agency": "KI",
                "due_in_days": 300,
                "status": "offen",
            },
            {
                "goal": "Deutschkenntnisse auf B1 verbessern",
                "field": "sprache",
                "agency": "KI",
                "due_in_days": 200,
                "status": "in_arbeit",
            },
        ],
        "consent": {
            "kind": "none",
            "agencies": [],
            "grantor": "client",
            "interpreter_used": True,
            "purpose": "",
        },
    },
    {
        "given_name": "Nour",
        "family_name": "Al-Hamwi",
        "birth_date": "2005-02-12",
        "nationality": "syrisch",
        "languages": ["Arabisch", "Deutsch (B1)"],
        "interpreter_needed": False,
        "address": "Rosenstraße 8, 12345 Musterstadt",
        "phone": "0160 2284951",
        "residence_status": "Aufenthaltserlaubnis § 25 Abs. 2 AufenthG",
        "residence_valid_until": "2026-12-31",
        "lead_agency": "JC",
        "rechtskreise": ["SGB II", "SGB VIII", "AufenthG"],
        "fields": ["schule_ausbildung", "familie", "aufenthalt"],
        "situation": "Absolviert eine Einstiegsqualifizierung in der Altenpflege und trägt "
        "zugleich viel Verantwortung für zwei jüngere Geschwister, seit die Mutter "
        "kaum belastbar ist.",
        "notes": [
            {
                "agency": "JC",
                "category": "bildung_arbeit",
                "days_ago": 75,
                "text": "Einstiegsqualifizierung in einem Seniorenzentrum in Musterstadt "
                "begonnen. Die Einrichtung ist zufrieden und stellt eine Übernahme in die "
                "Ausbildung zur Pflegefachassistenz in Aussicht.",
            },
            {
                "agency": "JA",
                "category": "familie",
                "days_ago": 54,
                "text": "Gespräch mit der Familie: Die Mutter ist seit Monaten nur eingeschränkt "
                "belastbar, Frau A. versorgt morgens und abends die Geschwister (8 und 11 "
                "Jahre). Sozialpädagogische Familienhilfe wurde angeboten und angenommen.",
            },
            {
                "agency": "ABH",
                "category": "aufenthalt",
                "days_ago": 40,
                "text": "Antrag auf Verlängerung der Aufenthaltserlaubnis eingegangen, Vorsprache "
                "in sechs Wochen. Bei Bedarf wird eine Fiktionsbescheinigung ausgestellt.",
            },
            {
                "agency": "KI",
                "category": "familie",
                "days_ago": 24,
                "text": "Frau A. kommt nach eigener Aussage wegen der Familiensituation oft "
                "übermüdet zur Arbeit. Nachmittagsbetreuung für die Geschwister über die "
                "Offene Ganztagsschule geklärt.",
            },
            {
                "agency": "AA",
                "category": "bildung_arbeit",
                "days_ago": 11,
                "text": "Ausbildungsvertrag zur Pflegefachassistenz zum 1. Februar liegt zur "
                "Unterschrift vor. Die Berufsfachschule ist in Musterstadt, ein Umzug ist "
                "nicht nötig.",
            },
        ],
        "goals": [
            {
                "goal": "Übernahme in die Ausbildung zur Pflegefachassistenz",
                "field": "schule_ausbildung",
                "agency": "JC",
                "due_in_days": 70,
                "status": "in_arbeit",
            },
            {
                "goal": "Entlastung der Familie durch Familienhilfe sichern",
                "field": "familie",
                "agency": "JA",
                "due_in_days": -12,
                "status": "erreicht",
            },
            {
                "goal": "Verlängerung der Aufenthaltserlaubnis",
                "field": "aufenthalt",
                "agency": "ABH",
                "due_in_days": 35,
                "status": "in_arbeit",
            },
        ],
        "consent": {
            "kind": "full",
            "agencies": ["KI", "JC", "AA", "ABH", "JA"],
            "grantor": "client",
            "interpreter_used": False,
            "purpose": "Abstimmung des Integrationsplans in der Fallkonferenz",
        },
    },
]

EXTRA_NAMES = {
    "given": [
        "Abdullah",
        "Aman",
        "Ayan",
        "Bilal",
        "Dawit",
        "Fatima",
        "Habib",
        "Hamza",
        "Helen",
        "Ibrahima",
        "Idris",
        "Jamila",
        "Kidane",
        "Layla",
        "Maryam",
        "Mohammed",
        "Nasrin",
        "Omid",
        "Petro",
        "Qadir",
        "Reza",
        "Saba",
        "Samir",
        "Shirin",
        "Tamana",
        "Tesfalem",
        "Wali",
        "Yusuf",
        "Zahra",
        "Oksana",
    ],
    "family": [
        "Abdi",
        "Ahmadi",
        "Al-Masri",
        "Barry",
        "Berhane",
        "Bondarenko",
        "Conteh",
        "Demir",
        "Ebrahimi",
        "Farah",
        "Ghebremedhin",
        "Haidari",
        "Hussein",
        "Jallow",
        "Karimi",
        "Kaya",
        "Kebede",
        "Mahmoud",
        "Mohammadi",
        "Noori",
        "Osman",
        "Qasemi",
        "Rahmani",
        "Saleh",
        "Shevchenko",
        "Sow",
        "Tekle",
        "Touré",
        "Yousef",
        "Zadran",
    ],
}
