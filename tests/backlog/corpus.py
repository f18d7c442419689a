"""Escalation texts for the de-identification guard: structural problems as case workers write them, half of them
naming a client by accident (as the guard must catch), half clean but full of numbers, paragraphs, amounts,
deadlines and words that resemble a client's name (as the guard must let through).

The first three persons are the cases of the `bscene` fixture (created in this order, so their case numbers are
FK-<year>-0001 to -0003); the others are created by the guard tests on the same conference.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

YEAR = date.today().year


@dataclass(frozen=True)
class Person:
    given: str
    family: str
    birth_date: date
    address: str
    phone: str
    number: str  # case number

    @property
    def names(self) -> set[str]:
        """The names a case record yields, as the service collects them (given, family, full)."""
        return {self.given, self.family, f"{self.given} {self.family}"}


def _number(seq: int) -> str:
    return f"FK-{YEAR}-{seq:04d}"


_BIRTH = date(2004, 3, 17)  # the factories' default birth date
PERSONS = {
    "open": Person("Amal", "Haddad", _BIRTH, "Lindenstraße 12, 12345 Musterstadt", "0151 2345678", _number(1)),
    "closed": Person("Senait", "Tesfay", _BIRTH, "Hafenstraße 7, 12345 Musterstadt", "0231 998877", _number(2)),
    "other": Person("Ahmad", "Rahimi", _BIRTH, "Am Markt 3, 12345 Musterstadt", "0151 2345678", _number(3)),
    "oeztuerk": Person(
        "Gülistan", "Öztürk", date(2003, 9, 5), "Gartenweg 4, 12345 Musterstadt", "0157 31415926", _number(4)
    ),
    "yilmaz": Person(
        "Nur", "Yılmaz", date(2006, 1, 22), "Bahnhofstraße 21a, 12345 Musterstadt", "0162 7654321", _number(5)
    ),
    "heyde": Person(
        "Leon", "von der Heyde", date(2007, 8, 30), "Schulstraße 9, 12345 Musterstadt", "0170 1122334", _number(6)
    ),
}
SCENE_PERSONS = ("open", "closed", "other")
EXTRA_PERSONS = ("oeztuerk", "yilmaz", "heyde")


@dataclass(frozen=True)
class Sample:
    id: str
    title: str
    description: str
    category: str
    proposed_solution: str = ""
    person: str | None = None  # whose data the text carries (the case it is escalated from)
    hits: tuple[tuple[str, str, str], ...] = field(default=())  # (field, kind, text) the guard must report

    def texts(self) -> dict[str, str]:
        return {"title": self.title, "description": self.description, "proposed_solution": self.proposed_solution}


def _hit(field_name: str, kind: str, text: str) -> tuple[tuple[str, str, str], ...]:
    return ((field_name, kind, text),)


IDENTIFYING = [
    Sample(
        "vollname",
        "Integrationskurs mit Duldung nicht erreichbar",
        "Frau Amal Haddad ist seit 14 Monaten geduldet (§ 60a AufenthG) und erhält keinen Platz im Integrationskurs, "
        "weil das BAMF Geduldete nur nach Ermessen zulässt. Der Kursträger hätte 3 freie Plätze.",
        "rechtslage",
        person="open",
        hits=_hit("description", "name", "Amal Haddad"),
    ),
    Sample(
        "nachname",
        "Wohnsitzauflage verhindert Ausbildungsbeginn",
        "Die Wohnsitzauflage nach § 12a AufenthG bindet Herrn Rahimi an den Kreis, obwohl ihm ein Betrieb im "
        "Nachbarkreis einen Ausbildungsplatz zum 01.08.2027 zusagt. Die Aufhebung dauert derzeit 10 bis 12 Wochen.",
        "zustaendigkeit",
        person="other",
        hits=_hit("description", "name", "Rahimi"),
    ),
    Sample(
        "vorname",
        "Kein Kitaplatz während des Integrationskurses",
        "Senait kann den Integrationskurs nicht beginnen, weil für ihre zweijährige Tochter kein Kitaplatz frei ist "
        "und der Kursträger keine Kinderbetreuung anbietet.",
        "angebot_kinderbetreuung",
        person="closed",
        hits=_hit("description", "name", "Senait"),
    ),
    Sample(
        "grossbuchstaben",
        "Terminvergabe der ABH – HADDAD wartet seit 9 Wochen",
        "Die Ausländerbehörde vergibt Termine nur online; der nächste freie Termin für eine Verlängerung liegt "
        "9 Wochen in der Zukunft.",
        "wartezeiten",
        person="open",
        hits=_hit("title", "name", "HADDAD"),
    ),
    Sample(
        "kleinbuchstaben",
        "Statuswechsel erreicht das Jobcenter nicht",
        "Jobcenter und Ausländerbehörde tauschen keine Daten aus: bei amal haddad lag die Fiktionsbescheinigung dem JC "
        "drei Monate nicht vor, die Leistungen wurden vorläufig eingestellt.",
        "datenaustausch",
        person="open",
        hits=_hit("description", "name", "amal haddad"),
    ),
    Sample(
        "genitiv",
        "Beschäftigungserlaubnis bleibt liegen",
        "Rahimis Antrag auf Beschäftigungserlaubnis liegt seit 9 Wochen bei der Ausländerbehörde; der "
        "Ausbildungsbetrieb kann die Stelle nicht länger freihalten.",
        "wartezeiten",
        person="other",
        hits=_hit("description", "name", "Rahimis"),
    ),
    Sample(
        "genitiv-im-titel",
        "Tesfays Sprachkurs endet ohne Prüfung",
        "Der Berufssprachkurs B2 endet im Dezember, ein Prüfungstermin ist erst im Frühjahr frei. Bis dahin verfällt "
        "die Zusage des Ausbildungsbetriebs.",
        "angebot_sprache",
        person="closed",
        hits=_hit("title", "name", "Tesfays"),
    ),
    Sample(
        "name-im-loesungsvorschlag",
        "Fahrtkosten zur Berufsschule",
        "Auszubildende aus den Dörfern im Süden des Kreises tragen die Fahrtkosten zur Berufsschule selbst; ein "
        "Deutschlandticket wird nur bei BAB-Bezug erstattet.",
        "angebot_mobilitaet",
        proposed_solution="Zuerst eine Ausnahme für Frau Haddad prüfen, danach generell regeln.",
        person="open",
        hits=_hit("proposed_solution", "name", "Haddad"),
    ),
    Sample(
        "umlaut-umschrift",
        "Anerkennung des Abschlusses dauert 7 Monate",
        "Guelistan Oeztuerk hat ein Diplom als Pflegefachkraft; die Anerkennungsstelle braucht für die "
        "Gleichwertigkeitsprüfung im Schnitt 7 Monate, in dieser Zeit ist keine Beschäftigung als Fachkraft möglich.",
        "wartezeiten",
        person="oeztuerk",
        hits=_hit("description", "name", "Guelistan Oeztuerk"),
    ),
    Sample(
        "umlaut-ohne-punkte",
        "Übersetzungskosten bei der Anerkennung",
        "Für Frau OZTURK übernimmt das Jobcenter die Übersetzungskosten von 380 € für die Anerkennung nicht, weil "
        "keine Eingliederungsvereinbarung vorliegt.",
        "foerderluecke",
        person="oeztuerk",
        hits=_hit("description", "name", "OZTURK"),
    ),
    Sample(
        "tuerkisches-i",
        "Keine BAB für Geduldete in Ausbildung",
        "Frau Yilmaz hat mit Duldung keinen Anspruch auf BAB; die Ausbildung zur Verkäuferin ist ohne Unterhalt "
        "nicht zu finanzieren.",
        "foerderluecke",
        person="yilmaz",
        hits=_hit("description", "name", "Yilmaz"),
    ),
    Sample(
        "vorname-ist-ein-wort",
        "Jugendintegrationskurse nur zweimal im Jahr",
        "Für Nur fehlt seit März ein Platz im Jugendintegrationskurs, der nächste Kurs beginnt erst im Herbst.",
        "angebot_sprache",
        person="yilmaz",
        hits=_hit("description", "name", "Nur"),
    ),
    Sample(
        "namenszusatz",
        "Übergang Jugendhilfe – Jobcenter mit 18",
        "Herr von der Heyde ist volljährig geworden; das Jugendamt beendet die Hilfe, das Jobcenter sieht sich vor der "
        "Prüfung der Erwerbsfähigkeit nicht zuständig.",
        "zustaendigkeit",
        person="heyde",
        hits=_hit("description", "name", "von der Heyde"),
    ),
    Sample(
        "geburtsdatum",
        "Zulassung zum Integrationskurs dauert 5 Monate",
        "Eine junge Frau (geb. 17.03.2004) wartet seit Juni auf die Zulassung zum Integrationskurs.",
        "wartezeiten",
        person="open",
        hits=_hit("description", "birth_date", "17.03.2004"),
    ),
    Sample(
        "geburtsdatum-kurz",
        "Ausbildungsvertrag im Nachbarkreis scheitert",
        "Der junge Mann, geboren 17.3.04, bekommt wegen der Wohnsitzauflage keinen Ausbildungsvertrag im Nachbarkreis.",
        "rechtslage",
        person="other",
        hits=_hit("description", "birth_date", "17.3.04"),
    ),
    Sample(
        "geburtsdatum-iso",
        "Abweichende Stammdaten sperren die Leistung",
        "Im Datensatz des Jobcenters steht als Geburtsdatum 2004-03-17, bei der Ausländerbehörde ein anderes; die "
        "Leistung wurde deshalb gesperrt.",
        "datenaustausch",
        person="closed",
        hits=_hit("description", "birth_date", "2004-03-17"),
    ),
    Sample(
        "geburtsdatum-ausgeschrieben",
        "Jugendberufshilfe endet zu früh",
        "Die Klientin ist am 17. März 2004 geboren und fällt damit aus der Jugendberufshilfe heraus.",
        "zustaendigkeit",
        person="open",
        hits=_hit("description", "birth_date", "17. März 2004"),
    ),
    Sample(
        "geburtsdatum-umschrift",
        "Beschäftigungserlaubnis nur befristet",
        "Der junge Mann (geboren am 17. Maerz 2004) erhält die Beschäftigungserlaubnis jeweils nur für 6 Monate.",
        "rechtslage",
        person="other",
        hits=_hit("description", "birth_date", "17. Maerz 2004"),
    ),
    Sample(
        "fremdes-geburtsdatum",
        "Kein Anschluss nach der Schule",
        "Ein Jugendlicher, geboren am 22.06.2006, hat nach der Schule keinen Anschluss gefunden; "
        "Jugendberufsagentur und Jugendamt verweisen aufeinander.",
        "zustaendigkeit",
        person="open",
        hits=_hit("description", "date", "22.06.2006"),
    ),
    Sample(
        "geburtsmonat",
        "Schulabschluss seit 8 Monaten nicht bewertet",
        "Herkunft Afghanistan, geboren im März 2004, seit 2022 in Deutschland; die Bewertung des Schulabschlusses "
        "ist seit 8 Monaten offen.",
        "wartezeiten",
        person="other",
        hits=_hit("description", "date", "geboren im März 2004"),
    ),
    Sample(
        "fallnummer",
        "Dolmetschkosten in der Beratung",
        f"Wie in der Fallkonferenz zu {PERSONS['open'].number} besprochen, übernimmt keine Stelle die Kosten für "
        "Dolmetschende in der Ausbildungsberatung.",
        "foerderluecke",
        person="open",
        hits=_hit("description", "case_number", PERSONS["open"].number),
    ),
    Sample(
        "fallnummer-klein",
        "Wohnsitzauflage und Ausbildung",
        f"Siehe {PERSONS['other'].number.lower()}: die Zustimmung der anderen Ausländerbehörde fehlt seit 6 Wochen.",
        "wartezeiten",
        person="other",
        hits=_hit("description", "case_number", PERSONS["other"].number.lower()),
    ),
    Sample(
        "fallnummer-leerzeichen",
        f"Dolmetscherkosten ({PERSONS['closed'].number.replace('-', ' ')})",
        "Für Gespräche bei der Ausländerbehörde gibt es keine Kostenübernahme für Dolmetschende.",
        "foerderluecke",
        person="closed",
        hits=_hit("title", "case_number", PERSONS["closed"].number.replace("-", " ")),
    ),
    Sample(
        "fallnummer-ohne-praefix",
        "Leistungen nach Statuswechsel eingestellt",
        f"Im Fall {PERSONS['open'].number[3:]} wurden die Leistungen nach dem Wechsel in das AsylbLG eingestellt, "
        "ohne dass das Sozialamt informiert war.",
        "datenaustausch",
        person="open",
        hits=_hit("description", "case_number", PERSONS["open"].number[3:]),
    ),
    Sample(
        "anschrift",
        "Kita ohne Busanbindung",
        "Die Gemeinschaftsunterkunft in der Hafenstraße 7 liegt 9 km von der nächsten Kita entfernt; der Bus fährt "
        "zweimal täglich.",
        "angebot_kinderbetreuung",
        person="closed",
        hits=_hit("description", "address", "Hafenstraße 7"),
    ),
    Sample(
        "anschrift-abgekuerzt",
        "Post der Ausländerbehörde kommt nicht an",
        "Briefe an die Unterkunft Hafenstr. 7 werden ohne Namen am Briefkasten zurückgeschickt; Fristen verstreichen.",
        "datenaustausch",
        person="closed",
        hits=_hit("description", "address", "Hafenstr. 7"),
    ),
    Sample(
        "anschrift-ohne-strassenwort",
        "Nachts keine Verbindung zur Arbeit",
        "Die Unterkunft Am Markt 3 ist nach 20 Uhr nicht mehr an den Nahverkehr angebunden; Schichtarbeit ist so "
        "nicht möglich.",
        "angebot_mobilitaet",
        person="other",
        hits=_hit("description", "address", "Am Markt 3"),
    ),
    Sample(
        "anschrift-grossbuchstaben",
        "Zuweisung trotz Ausbildungsplatz in der Stadt",
        "Zuweisung in die Unterkunft LINDENSTRASSE 12, obwohl der Ausbildungsbetrieb in der Stadt liegt.",
        "angebot_wohnen",
        person="open",
        hits=_hit("description", "address", "LINDENSTRASSE 12"),
    ),
    Sample(
        "telefon",
        "Nur telefonisch erreichbar",
        "Die Klientin ist nur telefonisch erreichbar (0231 998877), Briefe der Ausländerbehörde kommen nicht an.",
        "datenaustausch",
        person="closed",
        hits=_hit("description", "phone", "0231 998877"),
    ),
    Sample(
        "telefon-international",
        "Rückrufe der Ausländerbehörde",
        "Die Ausländerbehörde ruft nur deutsche Festnetznummern zurück; die Klientin hat +49 231 998877 angegeben "
        "und wurde nie erreicht.",
        "wartezeiten",
        person="closed",
        hits=_hit("description", "phone", "+49 231 998877"),
    ),
    Sample(
        "telefon-ohne-trenner",
        "Terminabsagen per SMS",
        "Das Jobcenter sagt Termine per SMS an 01512345678 ab; eine Übersetzung gibt es nicht.",
        "angebot_sprache",
        person="open",
        hits=_hit("description", "phone", "01512345678"),
    ),
    Sample(
        "telefon-endstueck",
        "Erreichbarkeit in der Unterkunft",
        "In der Unterkunft gibt es nur ein Telefon für alle (Tel. 99 88 77); Rückrufe der Stellen gehen verloren.",
        "datenaustausch",
        person="closed",
        hits=_hit("description", "phone", "99 88 77"),
    ),
    Sample(
        "email",
        "Bescheide nur per Post",
        "Die Klientin bittet um Bescheide per E-Mail an amal.haddad@web.de, die Ausländerbehörde versendet nur per "
        "Post.",
        "datenaustausch",
        person="open",
        hits=_hit("description", "email", "amal.haddad@web.de"),
    ),
    Sample(
        "email-ohne-namen",
        "Unverschlüsselte Mails an Klientinnen",
        "Kontakt läuft nur über s.t.2004@gmx.de; Unterlagen werden unverschlüsselt verschickt.",
        "datenaustausch",
        person="closed",
        hits=_hit("description", "email", "s.t.2004@gmx.de"),
    ),
    Sample(
        "andere-umschrift",
        "Beschäftigungserlaubnis dauert zu lange",
        "Herr Ahmed R. wartet seit 9 Wochen auf die Zustimmung der Bundesagentur zur Beschäftigung; der Betrieb "
        "hält die Stelle nur noch bis Monatsende frei.",
        "wartezeiten",
        person="other",
        hits=_hit("description", "name", "Ahmed"),
    ),
    Sample(
        "umschrift-am-satzanfang",
        "Kein Kursplatz mit Kinderbetreuung",
        "Senayt bekommt keinen Kursplatz mit Kinderbetreuung; der nächste Kurs mit Betreuung beginnt im Herbst.",
        "angebot_kinderbetreuung",
        person="closed",
        hits=_hit("description", "name", "Senayt"),
    ),
]

CLEAN = [
    Sample(
        "duldung-integrationskurs",
        "Geduldete ohne Zugang zum Integrationskurs",
        "Menschen mit Duldung nach § 60a AufenthG werden nur nach Ermessen zum Integrationskurs zugelassen "
        "(§ 44 Abs. 4 AufenthG). In 7 von 12 besprochenen Fällen wurde die Zulassung abgelehnt oder nicht beschieden.",
        "rechtslage",
        proposed_solution="Das BAMF wird gebeten, freie Kursplätze regelmäßig für Geduldete zu öffnen.",
    ),
    Sample(
        "wohnsitzauflage-ausbildung",
        "Wohnsitzauflage und Ausbildungsbeginn",
        "Die Aufhebung der Wohnsitzauflage nach § 12a Abs. 5 AufenthG dauert im Schnitt 11 Wochen. Betriebe sagen "
        "Ausbildungsplätze zum 01.08.2027 zu, die Bewerbungsfrist endet aber am 15.03.2027.",
        "zustaendigkeit",
    ),
    Sample(
        "kinderbetreuung-warteliste",
        "Integrationskurse ohne Kinderbetreuung",
        "Integrationskurse mit Kinderbetreuung gibt es im Kreis nur noch an 2 Standorten. Eine Familie steht im "
        "Schnitt auf Platz 40 der Warteliste; junge Mütter brechen den Kurs nach durchschnittlich 6 Wochen ab.",
        "angebot_kinderbetreuung",
    ),
    Sample(
        "wartezeiten-abh",
        "Termine bei der Ausländerbehörde",
        "Die Ausländerbehörde vergibt Termine nur online; freie Termine liegen 14 Wochen in der Zukunft. "
        "Fiktionsbescheinigungen nach § 81 Abs. 4 AufenthG werden erst nach Ablauf des Titels ausgestellt, "
        "Arbeitgeber kündigen in dieser Zeit.",
        "wartezeiten",
    ),
    Sample(
        "datenaustausch-rueckforderung",
        "Statuswechsel ohne Meldung an das Jobcenter",
        "Das Jobcenter erfährt von einem Statuswechsel oft erst nach 2–3 Monaten; Leistungen nach dem SGB II werden "
        "weitergezahlt und später zurückgefordert, in Einzelfällen bis 2.000 €.",
        "datenaustausch",
        proposed_solution="Meldeweg JC/ABH nach § 87 AufenthG mit festen Ansprechpersonen vereinbaren; "
        "Stichtag 01.04.2027.",
    ),
    Sample(
        "mobilitaet-laendlicher-raum",
        "Berufsschule auf dem Land nicht erreichbar",
        "Aus den Dörfern im Süden des Kreises fährt der Bus zur Berufsschule zweimal täglich, die Fahrt dauert "
        "75 Minuten. Für einen Ausbildungsplatz 25 km entfernt braucht es ein Auto; das Deutschlandticket "
        "(58 € im Monat) wird nicht übernommen.",
        "angebot_mobilitaet",
    ),
    Sample(
        "arbeitsweg-stichpunkte",
        "Schichtarbeit ohne Nahverkehr",
        "Arbeitsweg 60 Minuten, Bus nur stündlich, kein Nachtverkehr; Frühschicht ab 6 Uhr nicht erreichbar.",
        "angebot_mobilitaet",
    ),
    Sample(
        "bab-bafoeg",
        "Förderlücke bei BAB und BAföG",
        "Geduldete erhalten Berufsausbildungsbeihilfe (BAB) erst nach 15 Monaten Voraufenthalt (§ 60 Abs. 3 SGB III); "
        "beim BAföG gilt dasselbe. Rund 30 % der Auszubildenden mit Duldung brechen im ersten Ausbildungsjahr ab.",
        "foerderluecke",
    ),
    Sample(
        "sprachkurse-b2",
        "Zu wenige Berufssprachkurse B2",
        "Die Berufssprachkurse (DeuFöV) auf B2-Niveau starten im Kreis zweimal jährlich mit je 25 Plätzen; 2025 "
        "standen 140 Personen auf der Warteliste. Der nächste Kurs beginnt am 1. Februar 2027.",
        "angebot_sprache",
    ),
    Sample(
        "anerkennung-gebuehren",
        "Kosten der Anerkennung",
        "Anerkennungsverfahren für ausländische Berufsabschlüsse dauern 4–6 Monate; die Gebühren von 100 € bis 600 € "
        "übernimmt das Jobcenter nur teilweise, Übersetzungen kosten zusätzlich bis zu 400 €.",
        "foerderluecke",
    ),
    Sample(
        "junge-volljaehrige",
        "Junge Volljährige zwischen SGB VIII und SGB II",
        "Junge Volljährige zwischen 18 und 21 Jahren fallen zwischen SGB VIII und SGB II; Hilfe für junge Volljährige "
        "nach § 41 SGB VIII wird oft mit Verweis auf das Jobcenter abgelehnt. Die Geburtsjahrgänge 2005 bis 2008 "
        "sind besonders betroffen.",
        "zustaendigkeit",
    ),
    Sample(
        "gesetzesdatum",
        "Ausbildungsduldung wird eng ausgelegt",
        "Das Aufenthaltsgesetz in der Fassung der Bekanntmachung vom 25.02.2008 sieht für Geduldete in Ausbildung die "
        "Ausbildungsduldung vor (§ 60c AufenthG); die Ausländerbehörde legt die Voraussetzungen seit 01.01.2020 enger "
        "aus als die Nachbarkreise.",
        "rechtslage",
    ),
    Sample(
        "fallzahlen",
        "Beschäftigungserlaubnis dauert zu lange",
        "Seit 2024 wurden in den Fallkonferenzen 23 Fälle besprochen, in denen eine Beschäftigungserlaubnis länger als "
        "8 Wochen offen war; 2025 waren es 31.",
        "wartezeiten",
    ),
    Sample(
        "behoerden-und-staedte",
        "Unterschiedliche Formulare für dieselbe Bescheinigung",
        "Die Agentur für Arbeit Dortmund und das Jobcenter Kreis Unna nutzen unterschiedliche Formulare für dieselbe "
        "Bescheinigung; Geflüchtete aus Lünen und Schwerte pendeln deshalb zwischen beiden Stellen.",
        "zustaendigkeit",
    ),
    Sample(
        "aehnliche-woerter",
        "Sprachcafés statt Sprachkurse",
        "Die Senatsverwaltung fördert nur ehrenamtliche Angebote; die Ahmadiyya-Gemeinde bietet ein Sprachcafé an, "
        "die Beratungsstelle in der Amalienstraße ist nur dienstags besetzt.",
        "angebot_sprache",
    ),
    Sample(
        "arbeitsmarkt-und-hafen",
        "Kaum Teilzeitausbildung",
        "Der Übergang in den Arbeitsmarkt gelingt 3 von 10 jungen Geflüchteten innerhalb eines Jahres; Betriebe am "
        "Hafen und am Markt für Pflegehilfskräfte suchen Personal, bilden aber kaum in Teilzeit aus.",
        "angebot_kinderbetreuung",
    ),
    Sample(
        "fristen",
        "Übergangsregelung Beschäftigungsduldung läuft aus",
        "Die Übergangsregelung gilt bis 31.12.2026; ab 01.01.2027 müssen Anträge auf Beschäftigungsduldung "
        "(§ 60d AufenthG) vollständig vorliegen, Fristverlängerung nur bis 2027-03-31.",
        "rechtslage",
    ),
    Sample(
        "prozente-und-betraege",
        "Eigenanteil am Sprachkurs",
        "Die Pauschale von 1.250,00 € deckt nur 60 % der Kosten eines Sprachkurses mit Kinderbetreuung; der "
        "Eigenanteil von 2,20 € je Unterrichtsstunde ist für Auszubildende nicht tragbar.",
        "foerderluecke",
    ),
    Sample(
        "einwilligungen",
        "Einwilligungen laufen vor der Fallkonferenz ab",
        "Einwilligungen nach Art. 6 Abs. 1 lit. a DSGVO gelten bei uns nur 12 Monate; in 17 von 40 Fällen lief die "
        "Einwilligung vor der nächsten Fallkonferenz ab.",
        "datenaustausch",
    ),
    Sample(
        "wohnen-mietobergrenze",
        "Auszug aus der Gemeinschaftsunterkunft",
        "In der Gemeinschaftsunterkunft am Stadtrand leben 180 Personen; der Auszug in eine eigene Wohnung scheitert "
        "an der Mietobergrenze von 450 € kalt für 1 Person.",
        "angebot_wohnen",
    ),
    Sample(
        "personal-abh",
        "Unterbesetzung der Ausländerbehörde",
        "Die Ausländerbehörde hat 3,5 von 6 Stellen besetzt; jede Sachbearbeitung betreut rund 1.100 Akten. Rückrufe "
        "erfolgen im Schnitt nach 12 Arbeitstagen.",
        "ressourcen",
    ),
    Sample(
        "nur-am-satzanfang",
        "Kaum Teilzeitkurse",
        "Nur 4 von 20 Bildungsträgern bieten Integrationskurse in Teilzeit an. Nur wenige Kurse beginnen nach 16 Uhr.",
        "angebot_sprache",
    ),
    Sample(
        "namenszusaetze-als-woerter",
        "Begleitung über das 18. Lebensjahr hinaus",
        "Die Hilfe für junge Volljährige endet von der Sache her nicht mit 18; der Bedarf an Begleitung bis zum Ende "
        "der Ausbildung wird von den Trägern unterschiedlich bewertet.",
        "zustaendigkeit",
    ),
    Sample(
        "sprechzeiten",
        "Sprechzeiten kollidieren mit der Berufsschule",
        "Die Sprechzeiten der Ausländerbehörde (Mo–Do 8:00 bis 12:00 Uhr) überschneiden sich mit den "
        "Berufsschultagen; 2 von 3 Auszubildenden verpassen deshalb Termine.",
        "wartezeiten",
    ),
    Sample(
        "jugendintegrationskurs",
        "Jugendintegrationskurs wird verweigert",
        "Jugendliche unter 25 Jahren (U25) mit Aufenthaltserlaubnis nach § 25 Abs. 2 AufenthG werden an den "
        "allgemeinen Kurs verwiesen, obwohl der Jugendintegrationskurs 900 statt 600 Unterrichtsstunden hat.",
        "angebot_sprache",
    ),
    Sample(
        "zeitvergleich",
        "Bearbeitungszeiten steigen",
        "Bearbeitungszeiten 2023/2024 im Vergleich: 6,2 statt 4,8 Wochen; die Fallzahlen steigen seit 2019 um "
        "rund 12 % im Jahr.",
        "ressourcen",
    ),
    Sample(
        "kita-gutscheine",
        "Kita-Gutschein erst nach Anmeldung",
        "Kita-Gutscheine werden erst nach Vorlage der Meldebescheinigung ausgestellt; die Meldebehörde vergibt "
        "Termine mit 6 Wochen Vorlauf.",
        "angebot_kinderbetreuung",
    ),
    Sample(
        "zeugnisbewertung",
        "Bewertung ausländischer Schulzeugnisse",
        "Schulzeugnisse aus Syrien, Eritrea und Afghanistan werden von der Bezirksregierung nur mit beglaubigter "
        "Übersetzung bewertet; die Bewertung dauert derzeit 5 Monate.",
        "wartezeiten",
    ),
    Sample(
        "behoerde-umgezogen",
        "Zentrale Ausländerbehörde am Stadtrand",
        "Die Zentrale Ausländerbehörde ist vom Rathausplatz an den Stadtrand umgezogen; der Weg dorthin dauert mit "
        "dem Bus 50 Minuten.",
        "angebot_mobilitaet",
    ),
    Sample(
        "unverschluesselte-post",
        "Unterlagen ohne sicheren Übermittlungsweg",
        "Unterlagen werden zwischen JC und ABH per Fax oder E-Mail ohne Verschlüsselung verschickt; ein sicherer "
        "Übermittlungsweg (EGVP/beBPo) fehlt.",
        "datenaustausch",
    ),
    Sample(
        "land-hessen",
        "Anerkennung wie in Hessen",
        "Man kann die Anerkennung ausländischer Zeugnisse beschleunigen: In Hessen entscheidet eine zentrale Stelle "
        "binnen 6 Wochen. Amtliche Übersetzungen übernimmt dort das Land.",
        "wartezeiten",
    ),
]

SAMPLES = IDENTIFYING + CLEAN
