"""The tables the demo data is drawn from: places, names, professions and their weights.

Declarative data for `demo_data`; fiction apart from the real postcodes.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Final, Generic, TypeVar

from registry_sync.domain.identifiers import QUALIFICATION_CODES

#: Real Flemish postcodes with their municipality (or district), plus Brussels, which the
#: Sociale Kaart covers as well. For the practice fiches of the demo.
FLEMISH_MUNICIPALITIES: Final[tuple[tuple[str, str], ...]] = (
    ("1000", "Brussel"),
    ("1500", "Halle"),
    ("1700", "Dilbeek"),
    ("1800", "Vilvoorde"),
    ("1930", "Zaventem"),
    ("2000", "Antwerpen"),
    ("2018", "Antwerpen"),
    ("2060", "Antwerpen"),
    ("2100", "Deurne"),
    ("2140", "Borgerhout"),
    ("2200", "Herentals"),
    ("2300", "Turnhout"),
    ("2400", "Mol"),
    ("2440", "Geel"),
    ("2500", "Lier"),
    ("2800", "Mechelen"),
    ("2900", "Schoten"),
    ("2930", "Brasschaat"),
    ("3000", "Leuven"),
    ("3010", "Kessel-Lo"),
    ("3080", "Tervuren"),
    ("3200", "Aarschot"),
    ("3290", "Diest"),
    ("3300", "Tienen"),
    ("3500", "Hasselt"),
    ("3580", "Beringen"),
    ("3600", "Genk"),
    ("3630", "Maasmechelen"),
    ("3700", "Tongeren"),
    ("3800", "Sint-Truiden"),
    ("3900", "Pelt"),
    ("3920", "Lommel"),
    ("8000", "Brugge"),
    ("8200", "Sint-Andries"),
    ("8300", "Knokke-Heist"),
    ("8400", "Oostende"),
    ("8500", "Kortrijk"),
    ("8560", "Wevelgem"),
    ("8600", "Diksmuide"),
    ("8620", "Nieuwpoort"),
    ("8670", "Koksijde"),
    ("8700", "Tielt"),
    ("8800", "Roeselare"),
    ("8870", "Izegem"),
    ("8900", "Ieper"),
    ("8930", "Menen"),
    ("9000", "Gent"),
    ("9030", "Mariakerke"),
    ("9040", "Sint-Amandsberg"),
    ("9050", "Gentbrugge"),
    ("9100", "Sint-Niklaas"),
    ("9120", "Beveren"),
    ("9160", "Lokeren"),
    ("9200", "Dendermonde"),
    ("9240", "Zele"),
    ("9300", "Aalst"),
    ("9400", "Ninove"),
    ("9500", "Geraardsbergen"),
    ("9600", "Ronse"),
    ("9700", "Oudenaarde"),
    ("9800", "Deinze"),
    ("9900", "Eeklo"),
)

# --- names -----------------------------------------------------------------------------

LAST_NAMES_NL: Final = (
    "Peeters", "Janssens", "Maes", "Jacobs", "Mertens", "Willems", "Claes", "Goossens",
    "Wouters", "De Smet", "Van den Broeck", "Segers", "Creemers", "Van Schelvergem",
    "Hermans", "Aerts", "Michiels", "Lambrechts", "Verstraete", "De Vos", "Van Damme",
    "Vermeulen", "Pauwels", "Declercq", "Van de Velde", "Vandenberghe", "Martens", "Smets",
    "Verhoeven", "Leysen", "Stevens", "Van Dyck", "Cools", "Coppens", "Vermeersch",
    "Hendrickx", "Verbruggen", "De Wilde", "Bogaerts", "Claeys", "Van Acker", "Van Hecke",
    "De Backer", "Verschueren", "Roels", "Geerts", "Van Looy", "Verheyen", "Thys",
    "Luyten", "Huybrechts", "Van Hoof", "De Cock", "Wuyts", "Moens", "Van Campenhout",
    "Vanhoutte", "De Meyer", "Baert", "Vandewalle", "Sels", "Nijs", "Van Gucht", "Bracke",
    "Nuyts", "Wyns", "Vanderstraeten", "Dewulf", "Lemmens", "Verlinden",
)  # fmt: skip
LAST_NAMES_FR: Final = (
    "Dubois", "Lambert", "Dupont", "Martin", "Simon", "Laurent", "Leclercq", "Lejeune",
    "Renard", "Leroy", "Dumont", "François", "Lefebvre", "Mathieu", "Denis", "Collard",
    "Hubert", "Gilson", "Lemaire", "Henrard", "Piette", "Michaux",
)  # fmt: skip
LAST_NAMES_EN: Final = (
    "Smith", "Murphy", "Kowalski", "Nowak", "Rossi", "Garcia", "Schmidt", "O'Brien",
    "Yilmaz", "El Amrani", "Popescu", "Novak", "Fernandes", "Jansen",
)  # fmt: skip
FIRST_NAMES: Final[dict[tuple[str, str], tuple[str, ...]]] = {
    ("nl", "M"): (
        "Albert", "Marc", "Jan", "Pieter", "Tom", "Koen", "Bart", "Wim", "Dirk", "Luc",
        "Geert", "Stijn", "Jeroen", "Wouter", "Jens", "Lander", "Arne", "Thomas", "Lucas",
        "Ruben", "Joris", "Pieter-Jan", "Sander", "Michiel", "Frederik", "Kristof", "Hans",
        "Filip", "Steven", "Bram", "Jonas", "Maarten", "Sven", "Gert", "Patrick", "Erik",
        "Johan", "Dries", "Seppe", "Robbe",
    ),
    ("nl", "F"): (
        "Nele", "Marie", "An", "Els", "Katrien", "Sofie", "Lies", "Eline", "Hanne", "Lotte",
        "Femke", "Griet", "Inge", "Veerle", "Sarah", "Laura", "Lien", "Evelien", "Annelies",
        "Kathleen", "Ilse", "Heidi", "Leen", "Ann", "Liesbeth", "Charlotte", "Julie", "Emma",
        "Silke", "Jolien", "Margot", "Fien", "Tine", "Karen", "Hilde", "Greet", "Nathalie",
        "Elke", "Marijke", "Ellen",
    ),
    ("fr", "M"): (
        "Jean", "Pierre", "Philippe", "Olivier", "Nicolas", "Julien", "Maxime", "Antoine",
        "Benoît", "Laurent", "Thierry", "Christophe", "Sébastien", "François", "Cédric",
        "Guillaume", "Damien", "Vincent",
    ),
    ("fr", "F"): (
        "Sophie", "Isabelle", "Catherine", "Nathalie", "Julie", "Camille", "Chloé", "Céline",
        "Aurélie", "Valérie", "Caroline", "Marie", "Pauline", "Manon", "Élise", "Hélène",
    ),
    ("en", "M"): (
        "James", "David", "Michael", "Daniel", "Mehmet", "Ahmed", "Piotr", "Marco", "Luca",
        "Andrei",
    ),
    ("en", "F"): (
        "Emily", "Hannah", "Olivia", "Anna", "Fatima", "Aylin", "Maria", "Elena", "Katarzyna",
        "Sara",
    ),
}  # fmt: skip
LAST_NAMES: Final[dict[str, tuple[str, ...]]] = {
    "nl": LAST_NAMES_NL,
    "fr": LAST_NAMES_FR,
    "en": LAST_NAMES_EN,
}


# --- weighted choices ------------------------------------------------------------------


T = TypeVar("T")


class Weighted(Generic[T]):
    """A fixed choice with small integer weights, as a lookup table.

    One `rng.random()` and an index per pick: several times faster than `rng.choices`,
    which matters at a dozen picks per person and a million people.
    """

    def __init__(self, weighted: Sequence[tuple[T, int]]) -> None:
        self._table = [value for value, weight in weighted for _ in range(weight)]
        self._size = len(self._table)

    def pick(self, rng: random.Random) -> T:
        return self._table[int(rng.random() * self._size)]


LANGUAGE: Final[Weighted[str]] = Weighted((("nl", 85), ("fr", 12), ("en", 3)))

#: Single professions, weighted roughly like the Flemish workforce with a RIZIV number.
SINGLE_PROFESSION: Final[Weighted[str]] = Weighted(
    (
        ("nurse", 28),
        ("physician", 20),
        ("physiotherapist", 12),
        ("pharmacist", 10),
        ("psychologist", 8),
        ("dentist", 6),
        ("speech_therapist", 6),
        ("occupational_therapist", 4),
        ("midwife", 3),
        ("dietitian", 3),
    )
)

#: Share of people registered for two professions, and the combinations that occur.
TWO_PROFESSIONS_SHARE: Final = 0.10
TWO_PROFESSIONS: Final[Weighted[tuple[str, str]]] = Weighted(
    (
        (("nurse", "midwife"), 35),
        (("physiotherapist", "occupational_therapist"), 15),
        (("psychologist", "speech_therapist"), 12),
        (("nurse", "dietitian"), 10),
        (("nurse", "psychologist"), 10),
        (("physician", "dentist"), 8),  # stomatologists
        (("dietitian", "physiotherapist"), 10),
    )
)

#: Qualification code weights per RIZIV profession.
QUALIFICATION: Final[dict[str, Weighted[str]]] = {
    profession: Weighted(weights)
    for profession, weights in {
        "physician": (
            ("005", 8), ("003", 20), ("004", 25), ("140", 10), ("180", 7), ("340", 7),
            ("580", 8), ("690", 5), ("730", 10),
        ),
        "dentist": (("001", 30), ("004", 50), ("007", 12), ("009", 8)),
        "nurse": (
            ("401", 40), ("402", 25), ("404", 11), ("405", 8), ("406", 8), ("407", 8),
        ),
        "midwife": (("470", 85), ("471", 15)),
        "physiotherapist": (
            ("510", 50), ("511", 12), ("512", 18), ("513", 10), ("514", 10),
        ),
        "speech_therapist": (("530", 85), ("531", 15)),
        "dietitian": (("550", 80), ("551", 20)),
        "occupational_therapist": (("570", 100),),
        "pharmacist": (("000", 50), ("001", 40), ("020", 10)),
    }.items()
}  # fmt: skip
#: The code of someone too young for the diplomas their drawn code needs (and the
#: fallback when a drawn code has run out of RIZIV numbers): the basic qualification.
ENTRY_CODE: Final[dict[str, str]] = {
    "physician": "005",
    "dentist": "001",
    "nurse": "401",
    "midwife": "470",
    "physiotherapist": "510",
    "speech_therapist": "530",
    "dietitian": "550",
    "occupational_therapist": "570",
    "pharmacist": "000",
}

#: Convention status weights; None: the key is absent. Professions not listed have none.
CONVENTION: Final[dict[str, Weighted[str | None]]] = {
    profession: Weighted(weights)
    for profession, weights in {
        "physician": (
            ("conventioned", 80), ("partially_conventioned", 6), ("not_conventioned", 14),
        ),
        "dentist": (
            ("conventioned", 50), ("partially_conventioned", 12), ("not_conventioned", 38),
        ),
        "physiotherapist": (("conventioned", 82), ("not_conventioned", 18)),
        "speech_therapist": (("conventioned", 90), ("not_conventioned", 10)),
        "midwife": (("conventioned", 85), ("not_conventioned", 15)),
        # Most nurses work salaried in a hospital or care home, outside any convention.
        "nurse": ((None, 45), ("conventioned", 50), ("not_conventioned", 5)),
    }.items()
}  # fmt: skip

# --- diplomas --------------------------------------------------------------------------

#: (title, typical age at graduation) of the basic diploma of every profession.
BASE_DIPLOMA: Final[dict[str, tuple[str, int]]] = {
    "physician": ("Master in de geneeskunde", 24),
    "pharmacist": ("Master in de farmaceutische wetenschappen", 23),
    "nurse": ("Bachelor in de verpleegkunde", 22),
    "midwife": ("Bachelor in de vroedkunde", 22),
    "physiotherapist": ("Master in de revalidatiewetenschappen en de kinesitherapie", 23),
    "dentist": ("Master in de tandheelkunde", 23),
    "dietitian": ("Bachelor in de voedings- en dieetkunde", 22),
    "psychologist": ("Master in de psychologie: klinische psychologie", 23),
    "speech_therapist": ("Bachelor in de logopedie en de audiologie", 22),
    "occupational_therapist": ("Bachelor in de ergotherapie", 22),
}

GP = ("Master in de huisartsgeneeskunde", 27)
SPECIALIST = ("Master in de specialistische geneeskunde", 30)

#: Diplomas a qualification code needs besides (or, for HBO5 nurses, instead of) the
#: basic one. Codes not listed need the basic diploma only.
CODE_DIPLOMAS: Final[dict[tuple[str, str], tuple[tuple[str, int], ...]]] = {
    ("physician", "003"): (GP,),
    ("physician", "004"): (GP,),
    **{("physician", code): (SPECIALIST,) for code in ("140", "180", "340", "580", "690", "730")},
    ("dentist", "007"): (("Master in de orthodontie", 26),),
    ("dentist", "009"): (("Master in de parodontologie", 26),),
    ("nurse", "404"): (("Bijzondere beroepstitel geriatrie", 25),),
    ("nurse", "405"): (("Bijzondere beroepstitel pediatrie en neonatologie", 25),),
    ("nurse", "406"): (("Bijzondere beroepstitel oncologie", 25),),
    ("nurse", "407"): (("Bijzondere beroepstitel intensieve zorg en spoedgevallenzorg", 25),),
    ("midwife", "471"): (("Postgraduaat lactatiekunde", 25),),
    ("physiotherapist", "511"): (("Postgraduaat pediatrische kinesitherapie", 25),),
    ("physiotherapist", "512"): (("Postgraduaat manuele therapie", 25),),
    ("physiotherapist", "513"): (("Postgraduaat cardiorespiratoire kinesitherapie", 25),),
    ("physiotherapist", "514"): (("Postgraduaat neurologische revalidatie", 25),),
    ("speech_therapist", "531"): (("Postgraduaat dysfagie", 25),),
    ("dietitian", "551"): (("Postgraduaat diabeteseducator", 25),),
    ("pharmacist", "020"): (("Master in de ziekenhuisfarmacie", 26),),
}
HBO5_NURSE_DIPLOMA: Final = ("Diploma van gegradueerde in de verpleegkunde", 21)


def diploma_plan(profession: str, code: str) -> tuple[tuple[str, int], ...]:
    """(title, age at graduation) of every diploma behind a profession's code, in order."""
    base = HBO5_NURSE_DIPLOMA if (profession, code) == ("nurse", "402") else None
    return (base or BASE_DIPLOMA[profession], *CODE_DIPLOMAS.get((profession, code), ()))


#: The diploma plan of every (profession, qualification code); code "" for a profession
#: without a RIZIV number.
DIPLOMA_PLANS: Final[dict[tuple[str, str], tuple[tuple[str, int], ...]]] = {
    (profession, code): diploma_plan(profession, code)
    for profession in BASE_DIPLOMA
    for code in QUALIFICATION_CODES.get(profession, {"": ""})
}

#: Graduation days (as the "-MM-DD" end of the ISO date): most in June, some after the
#: September resit, a few in February.
GRADUATION_DAY: Final[Weighted[str]] = Weighted((("-06-30", 70), ("-09-14", 20), ("-02-01", 10)))
GRADUATION_DELAY: Final[Weighted[int]] = Weighted(((0, 70), (1, 20), (2, 10)))
