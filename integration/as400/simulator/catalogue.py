"""A realistic, reproducible catalogue for the simulated AS400.

Everything comes from ``random.Random(seed)``: the same seed and item count give the same
items, EANs, prices and stock, byte for byte. The retailer sells home, DIY and garden goods in
30 stores (001-030) and from a central warehouse (900).

- Item numbers: 7 digits, ascending. EAN-13: French GS1 prefixes (30-37), valid check digit.
- Descriptions: French, with accents, at most 30 characters, only characters CCSID 297 holds
  (no œ, no €, no typographic apostrophe).
- Prices incl. VAT (9P 2), psychological endings; VAT codes 1=20 % 2=10 % 3=5,5 % 4=2,1 %.
- Status: mostly A, some S (suspended) and D (delisted).
- Stock: every item at every location, with zeros and a few negatives (the AS400 lets stores sell
  what it thinks they do not have).
"""

from __future__ import annotations

import math
import random
import sqlite3
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.utils.translation import gettext_noop

from integration.as400.simulator.db import (
    RESEEDED_TABLES,
    mark_changed,
    stamp,
    state_delete,
    state_get,
    state_set,
    to_db,
    transaction,
)
from integration.core.stored_texts import StoredText

WAREHOUSE = 900
STORES: tuple[tuple[int, str], ...] = (
    (1, "Lyon Part-Dieu"), (2, "Villeurbanne"), (3, "Grenoble"), (4, "Saint-Étienne"), (5, "Chambéry"),
    (6, "Annecy"), (7, "Valence"), (8, "Mâcon"), (9, "Dijon"), (10, "Besançon"),
    (11, "Clermont-Ferrand"), (12, "Orléans"), (13, "Tours"), (14, "Nîmes"), (15, "Montpellier"),
    (16, "Béziers"), (17, "Perpignan"), (18, "Toulouse"), (19, "Angoulême"), (20, "Poitiers"),
    (21, "Nantes"), (22, "Rennes"), (23, "Évreux"), (24, "Rouen"), (25, "Amiens"),
    (26, "Reims"), (27, "Metz"), (28, "Nancy"), (29, "Strasbourg"), (30, "Colmar"),
)  # fmt: skip
WAREHOUSE_NAME = "Entrepôt central Saint-Priest"
LOCATIONS: tuple[int, ...] = (*(mag for mag, _ in STORES), WAREHOUSE)

# What a seed says, in English (the command line, the log); the admin's page says it in the
# reader's language (integration.core.stored_texts).
SEEDED = StoredText(gettext_noop("seeded {items} items x {locations} locations (seed {seed})"))
ALREADY_SEEDED = StoredText(gettext_noop("already seeded (seed {seed}, {items} items); --force to replace"))


@dataclass(frozen=True)
class Family:
    """A product family: its 4-character code, label, VAT code, price range and words."""

    code: str
    name: str
    vat: str
    price_min: float
    price_max: float
    nouns: tuple[str, ...]
    qualifiers: tuple[str, ...]
    weight: int = 4
    # Nouns sold at another VAT rate than the family's (firewood at 10 %...).
    vat_of: tuple[tuple[str, str], ...] = ()


def _f(code: str, name: str, vat: str, lo: float, hi: float, nouns: str, quals: str, **kw: object) -> Family:
    return Family(code, name, vat, lo, hi, tuple(nouns.split("|")), tuple(quals.split("|")), **kw)  # type: ignore[arg-type]


FAMILIES: tuple[Family, ...] = (
    _f("OUTI", "Outillage", "1", 3.9, 349, "Perceuse|Visseuse|Marteau|Scie sauteuse|Ponceuse|Tournevis|Clé plate|Pince|Niveau|Mètre ruban|Meuleuse|Serre-joint",
       "sans fil 18 V|à percussion|électrique|à molette|cruciforme|professionnel|compact|magnétique|Ø 125 mm|500 W|3 m|5 m", weight=7),
    _f("QUIN", "Quincaillerie", "1", 0.9, 89, "Vis|Cheville|Boulon|Écrou|Charnière|Serrure|Cadenas|Crochet|Équerre|Poignée|Rondelle|Targette",
       "inox|laiton|acier zingué|à béton|de porte|à clé|renforcé|lot de 50|lot de 100|noir mat|Ø 8 mm|4 x 40", weight=7),
    _f("PEIN", "Peinture", "1", 2.5, 119, "Peinture|Lasure|Vernis|Sous-couche|Enduit|Pinceau|Rouleau|Bâche|Ruban masquage|Décapant|Glycéro|Patine",
       "blanc mat|satinée|velours|chêne clair|incolore|acrylique|gris perle|2,5 L|0,5 L|10 L|façade|boiserie", weight=6),
    _f("ELEC", "Électricité", "1", 1.5, 129, "Ampoule LED|Prise|Interrupteur|Rallonge|Câble|Disjoncteur|Gaine|Douille|Multiprise|Détecteur|Minuterie|Sonnette",
       "E27 806 lm|GU10|double|va-et-vient|3 m|10 m|16 A|étanche|blanc|parafoudre|sans fil|connecté", weight=6),
    _f("PLOM", "Plomberie", "1", 1.9, 249, "Robinet|Mitigeur|Siphon|Flexible|Joint|Raccord|Tuyau PER|Vanne|Mécanisme WC|Abattant WC|Douchette|Clapet",
       "chromé|thermostatique|laiton|Ø 16 mm|Ø 20 mm|1/2 pouce|3/4 pouce|à bille|universel|double touche|anticalcaire|inox", weight=5),
    _f("JARD", "Jardin", "1", 1.9, 599, "Tondeuse|Taille-haie|Arrosoir|Tuyau d'arrosage|Sécateur|Râteau|Bêche|Terreau|Pot|Jardinière|Brouette|Débroussailleuse",
       "thermique|électrique|sans fil|10 L|25 m|à main|50 L|terre cuite|résine|Ø 40 cm|ergonomique|télescopique", weight=6,
       vat_of=(("Terreau", "2"),)),
    _f("PLAN", "Plantes", "2", 2.9, 89, "Rosier|Lavande|Olivier|Géranium|Hortensia|Bambou|Thym|Romarin|Fraisier|Camélia|Buis|Érable",
       "en pot 2 L|pot Ø 14 cm|grimpant|nain|rouge|blanc|bleu|3 L|10 L|touffe|du Japon|persistant", weight=4),
    _f("LUMI", "Luminaire", "1", 4.9, 299, "Suspension|Lampadaire|Applique|Plafonnier|Lampe|Spot|Guirlande|Lanterne|Réglette|Hublot|Liseuse|Veilleuse",
       "métal noir|rotin|verre fumé|laiton|industrielle|scandinave|LED intégrée|à poser|solaire|dorée|céramique|orientable", weight=5),
    _f("CUIS", "Cuisine", "1", 1.5, 189, "Poêle|Casserole|Faitout|Couteau|Planche|Saladier|Mug|Cafetière|Bouilloire|Théière|Passoire|Râpe",
       "inox|fonte|céramique|Ø 24 cm|Ø 28 cm|bambou|émaillée|1,7 L|grès|induction|à pain|isotherme", weight=6),
    _f("SALB", "Salle de bain", "1", 2.9, 499, "Miroir|Colonne|Meuble vasque|Rideau de douche|Tapis de bain|Porte-serviettes|Pommeau|Paroi|Vasque|Gobelet|Patère|Étagère",
       "lumineux|80 cm|60 cm|blanc brillant|chêne|antidérapant|chromé|à poser|verre|céramique|suspendu|bambou", weight=4),
    _f("RANG", "Rangement", "1", 1.9, 249, "Boîte|Panier|Étagère|Caisse|Penderie|Bac|Casier|Range-chaussures|Malle|Crochet mural|Tiroir|Cube",
       "plastique|osier|métal|15 L|30 L|60 L|empilable|pliable|avec couvercle|5 niveaux|tissu|bois brut", weight=5),
    _f("DECO", "Décoration", "1", 1.5, 199, "Cadre|Vase|Bougie|Coussin|Miroir rond|Horloge|Statuette|Photophore|Plaid|Tableau|Bougeoir|Guirlande",
       "doré|verre|céramique|40 x 40 cm|parfumée|velours|murale|bohème|noir|terracotta|lin|Ø 50 cm", weight=6),
    _f("LING", "Linge de maison", "1", 2.9, 149, "Housse de couette|Drap housse|Taie d'oreiller|Nappe|Serviette|Torchon|Rideau|Voilage|Plaid|Gant de toilette|Peignoir|Tapis",
       "coton|lin lavé|240 x 260|140 x 190|percale|gaze de coton|écru|bleu nuit|anti-taches|éponge|occultant|brodé", weight=5),
    _f("LITE", "Literie", "1", 9.9, 899, "Oreiller|Couette|Matelas|Sommier|Surmatelas|Protège-matelas|Traversin|Tête de lit",
       "mémoire de forme|tempérée|140 x 190|160 x 200|90 x 190|ferme|moelleux|latex|ressorts|imperméable|duvet|bambou", weight=3),
    _f("MEUB", "Meuble", "1", 19.9, 999, "Table|Chaise|Tabouret|Buffet|Commode|Bureau|Bibliothèque|Banc|Console|Fauteuil|Étagère|Desserte",
       "chêne massif|pin|métal noir|rotin|extensible|de bar|3 tiroirs|scandinave|velours|pliante|industriel|blanc laqué", weight=5),
    _f("ANIM", "Animalerie", "1", 1.9, 149, "Croquettes|Litière|Panier|Gamelle|Laisse|Collier|Griffoir|Jouet|Arbre à chat|Aquarium|Cage|Friandises",
       "chien|chat|chiot|chaton|10 kg|agglomérante|inox|réglable|60 L|rongeur|Ø 50 cm|à mâcher", weight=4),
    _f("AUTO", "Auto", "1", 2.9, 199, "Essuie-glace|Huile moteur|Lave-glace|Câbles démarrage|Tapis de sol|Chargeur|Ampoule H7|Housse siège|Compresseur|Booster",
       "5W30 5 L|été|hiver|universel|12 V|600 mm|caoutchouc|-20 °C|avant|arrière|lithium|portable", weight=3),
    _f("SPOR", "Sport", "1", 2.9, 499, "Ballon|Raquette|Vélo|Casque|Tapis de yoga|Haltère|Gourde|Sac de sport|Trottinette|Corde à sauter|Gants|Tente",
       "football|tennis|VTT 27,5|adulte|enfant|5 kg|inox|30 L|pliable|antidérapant|2 places|néoprène", weight=4),
    _f("JOUE", "Jouets", "1", 2.9, 149, "Puzzle|Peluche|Jeu de société|Poupée|Voiture|Cubes|Déguisement|Dînette|Circuit|Toupie|Cerf-volant|Marionnette",
       "1000 pièces|ourson|famille|en bois|télécommandée|pirate|licorne|3 ans et +|6 ans et +|géant|magnétique|musical", weight=4),
    _f("PAPE", "Papeterie", "1", 0.5, 59, "Cahier|Stylo bille|Classeur|Agenda|Feutres|Crayons couleur|Ramette|Trousse|Cartable|Colle|Règle|Surligneur",
       "grands carreaux|bleu|A4|2027|x 12|x 24|80 g|double|dos 40 mm|30 cm|fluo|recyclé", weight=4),
    _f("LIVR", "Livres", "3", 4.5, 49, "Livre de cuisine|Roman policier|Guide du jardin|Bande dessinée|Atlas|Dictionnaire|Album jeunesse|Guide bricolage|Carnet de voyage",
       "poche|relié|illustré|tome 1|tome 2|grand format|édition 2026|français|régional|pour débutants", weight=3),
    _f("PRES", "Presse", "4", 1.5, 12.9, "Magazine|Revue|Hebdomadaire|Mensuel|Trimestriel|Hors-série",
       "déco|jardinage|bricolage|cuisine|n° 112|n° 87|spécial été|maison|automne|Noël", weight=2),
    _f("EPIC", "Épicerie fine", "3", 1.2, 39, "Café moulu|Thé vert|Chocolat noir|Confiture|Miel|Biscuits|Huile d'olive|Pâtes|Sel de Guérande|Moutarde|Nougat|Calissons",
       "bio|250 g|500 g|75 cl|100 g|de Provence|à l'ancienne|fraise|lavande|aux noix|de Montélimar|d'Aix", weight=3),
    _f("ENTR", "Entretien", "1", 0.9, 299, "Lessive|Liquide vaisselle|Éponge|Balai|Serpillière|Nettoyant|Aspirateur|Seau|Gants ménage|Désodorisant|Vinaigre blanc|Savon noir",
       "2 L|x 3|microfibre|multi-surfaces|sans sac|10 L|taille M|citron|écologique|1 L|à l'huile de lin|sans fil", weight=4),
    _f("CHAU", "Chauffage", "1", 3.9, 1299, "Radiateur|Convecteur|Poêle à granulés|Bûches|Thermostat|Ventilateur|Climatiseur|Déshumidificateur|Granulés|Allume-feu|Bûchettes",
       "à inertie|1500 W|2000 W|chêne|connecté|colonne|mobile|20 L|sac 15 kg|x 32|compressées|céramique", weight=3,
       vat_of=(("Bûches", "2"), ("Granulés", "2"), ("Bûchettes", "2"))),
)  # fmt: skip

ENDINGS = (
    Decimal("0.99"),
    Decimal("0.90"),
    Decimal("0.50"),
    Decimal("0.95"),
    Decimal("0.00"),
    Decimal("0.49"),
)
DESC_LENGTH = 30


def ean13_check_digit(first12: str) -> int:
    """The EAN-13 check digit of 12 digits: weights 1 and 3 from the left."""
    if len(first12) != 12 or not first12.isdigit():
        raise ValueError(f"an EAN-13 body is 12 digits, not {first12!r}")
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return (10 - total % 10) % 10


def ean13_is_valid(code: int | str) -> bool:
    text = f"{int(code):013d}"
    return len(text) == 13 and ean13_check_digit(text[:12]) == int(text[12])


def describe(rng: random.Random, family: Family) -> tuple[str, str]:
    """(description ≤ 30 characters, noun) for one item of ``family``."""
    noun = rng.choice(family.nouns)
    first, second = rng.sample(family.qualifiers, 2)
    for candidate in (f"{noun} {first} {second}", f"{noun} {first}", f"{noun} {second}", noun):
        if len(candidate) <= DESC_LENGTH:
            return candidate, noun
    return noun[:DESC_LENGTH].rstrip(), noun


def price_of(rng: random.Random, family: Family) -> Decimal:
    """A price incl. VAT in the family's range (log-uniform), with a retail ending."""
    value = math.exp(rng.uniform(math.log(family.price_min), math.log(family.price_max)))
    euros = int(value)
    ending = rng.choice(ENDINGS) if euros >= 1 else Decimal("0.99")
    price = Decimal(euros) + ending
    return max(price, Decimal("0.49"))


@dataclass(frozen=True)
class SeedReport:
    """What a seed did: counts, and how long it took (real seconds)."""

    seeded: bool
    seed: int
    items: int
    families: int
    locations: int
    stock_rows: int
    seconds: float
    message: str = ""


def catalogue_seed(
    conn: sqlite3.Connection, *, seed: int, items: int, at: datetime, force: bool
) -> SeedReport:
    """Fill ITMMST, STKBAL and the locations; idempotent unless ``force``.

    Without ``force``, a database that is already seeded is left as it is. With it, the catalogue,
    the orders and everything pending are replaced; the sequence counters, the faults and the clock
    are kept (an exchange folder never sees a sequence number used twice).
    """
    if items < 1:
        raise ValueError("a catalogue needs at least one item")
    started = time.perf_counter()
    with transaction(conn):
        already = state_get(conn, "seeded")
        if already and not force:
            return SeedReport(
                False, already["seed"], already["items"], already["families"], len(LOCATIONS),
                conn.execute("SELECT COUNT(*) FROM STKBAL").fetchone()[0], time.perf_counter() - started,
                ALREADY_SEEDED.format(seed=already["seed"], items=already["items"]),
            )  # fmt: skip
        for table in RESEEDED_TABLES:
            conn.execute(f"DELETE FROM {table}")
        for prefix in ("due:", "night:", "life:", "hwm:", "last_extract:"):
            state_delete(conn, prefix)

        rng = random.Random(seed)
        conn.executemany(
            "INSERT INTO SIM_LOCATION (MAG, NAME, KIND) VALUES (?, ?, ?)",
            [(mag, f"Magasin {city}", "S") for mag, city in STORES] + [(WAREHOUSE, WAREHOUSE_NAME, "W")],
        )
        conn.executemany(
            "INSERT INTO SIM_FAMILY (FAMC, NAME) VALUES (?, ?)", [(f.code, f.name) for f in FAMILIES]
        )
        item_rows, stock_rows = _generate(rng, items=items, at=at)
        conn.executemany(
            "INSERT INTO ITMMST (IMITEM, IMEAN, IMDESC, IMFAMC, IMPRIX, IMTVA, IMSTAT, IMDTCH) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            item_rows,
        )
        conn.executemany(
            "INSERT INTO STKBAL (SBITEM, SBMAG, SBQOH, SBQRS, SBDTCH, SBHRCH) VALUES (?, ?, ?, ?, ?, ?)",
            stock_rows,
        )
        # Nothing is "changed" after a seed: the first delta only carries what moves from now on.
        mark_changed(conn, "ITMMST", [])
        info = {"seed": seed, "items": items, "families": len(FAMILIES), "at": at.isoformat()}
        state_set(conn, "seeded", info)
        # A catalogue replaced under a running exchange: full extracts at the next step tell the platform.
        state_set(conn, "full:pending", bool(already))
    return SeedReport(
        True, seed, items, len(FAMILIES), len(LOCATIONS), len(stock_rows), time.perf_counter() - started,
        SEEDED.format(items=items, locations=len(LOCATIONS), seed=seed),
    )  # fmt: skip


def _generate(
    rng: random.Random, *, items: int, at: datetime
) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    weights = [f.weight for f in FAMILIES]
    suppliers = _suppliers(rng, 80)
    next_ref = dict.fromkeys(suppliers, 0)
    day0 = at.date()
    item_rows: list[tuple[object, ...]] = []
    stock_rows: list[tuple[object, ...]] = []
    number = 1_000_000
    now_day, now_clock = stamp(at)
    for index in range(items):
        # The first items go one per family so that even a small catalogue has every family.
        family = FAMILIES[index] if index < len(FAMILIES) else rng.choices(FAMILIES, weights)[0]
        number += rng.randint(1, 9)
        item = str(number)
        supplier = rng.choice(suppliers)
        next_ref[supplier] += 1
        body = f"{supplier}{next_ref[supplier]:05d}"
        ean = int(body + str(ean13_check_digit(body)))
        desc, noun = describe(rng, family)
        vat = dict(family.vat_of).get(noun, family.vat)
        status = rng.choices("ASD", (92, 5, 3))[0]
        changed = day0 - timedelta(days=rng.randint(0, 720))
        item_rows.append(
            (item, ean, desc, family.code, to_db(price_of(rng, family)), vat, status, _cyymmdd(changed))
        )
        typical = rng.choice((2, 4, 6, 10, 15, 25))
        for mag in LOCATIONS:
            quantity = _stock(rng, status=status, warehouse=mag == WAREHOUSE, typical=typical)
            back = rng.random()
            if back < 0.7:
                day, clock = _cyymmdd(day0 - timedelta(days=rng.randint(1, 60))), rng.randint(8, 19) * 10_000
            else:
                day, clock = now_day, now_clock
            stock_rows.append((item, mag, quantity, 0, day, clock))
    return item_rows, stock_rows


def _stock(rng: random.Random, *, status: str, warehouse: bool, typical: int) -> int:
    roll = rng.random()
    if status == "D":
        return 0 if roll < 0.85 else rng.randint(1, 3)
    if roll < 0.004:
        return -rng.randint(1, 3)  # sold at the till what the AS400 did not know it had
    if warehouse:
        return 0 if roll < 0.05 else rng.randint(typical * 5, typical * 60)
    if roll < 0.2:
        return 0
    return 1 + int(rng.expovariate(1 / typical))


def _suppliers(rng: random.Random, count: int) -> list[str]:
    """7-digit GS1 company prefixes of French suppliers (30 to 37), all different."""
    seen: set[str] = set()
    while len(seen) < count:
        seen.add(f"3{rng.randint(0, 7)}{rng.randint(0, 99999):05d}")
    return sorted(seen)


def _cyymmdd(day: date) -> int:
    return (day.year - 1900) * 10_000 + day.month * 100 + day.day
