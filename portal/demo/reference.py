"""The fixed part of the demo: jurisdictions, agencies and the wording of findings."""

from __future__ import annotations

from dataclasses import dataclass

# (code, parent, Faker locale, currency, legal forms with their usual variants)
JURISDICTIONS: tuple[tuple[str, str | None, str, str], ...] = (
    ("GB", None, "en_GB", "GBP"),
    ("GB-WLS", "GB", "en_GB", "GBP"),
    ("GB-SCT", "GB", "en_GB", "GBP"),
    ("US", None, "en_US", "USD"),
    ("US-NY", "US", "en_US", "USD"),
    ("US-CA", "US", "en_US", "USD"),
    ("DE", None, "de_DE", "EUR"),
    ("FR", None, "fr_FR", "EUR"),
    ("ES", None, "es_ES", "EUR"),
    ("IE", None, "en_IE", "EUR"),
)
# Where entities live (leaves get most of them), with weights.
ENTITY_JURISDICTIONS = (
    ("GB", 18),
    ("GB-WLS", 6),
    ("GB-SCT", 6),
    ("US-NY", 16),
    ("US-CA", 14),
    ("DE", 12),
    ("FR", 10),
    ("ES", 10),
    ("IE", 8),
)

LEGAL_FORMS = {
    "GB": (("Ltd", "Limited"), ("plc", "Public Limited Company"), ("LLP", "LLP")),
    "US": (("Inc.", "Incorporated"), ("LLC", "L.L.C."), ("Corp.", "Corporation")),
    "DE": (("GmbH", "Gesellschaft mit beschränkter Haftung"), ("AG", "Aktiengesellschaft")),
    "FR": (("S.A.", "SA"), ("SAS", "S.A.S."), ("SARL", "S.A.R.L.")),
    "ES": (("S.A.", "Sociedad Anónima"), ("S.L.", "Sociedad Limitada"), ("S.A.U.", "SAU")),
    "IE": (("Ltd", "Limited"), ("DAC", "Designated Activity Company")),
}

VIOLATION_CATEGORIES = (
    "data_protection",
    "environment",
    "food_safety",
    "workplace_safety",
    "financial_conduct",
    "consumer_protection",
    "charity_governance",
    "public_procurement",
    "conduct_in_office",
    "transparency",
)
COMMENDATION_CATEGORIES = (
    "certification",
    "voluntary_disclosure",
    "community_contribution",
    "award",
)

# Which categories can concern which kind of entity.
KIND_CATEGORIES = {
    "business": {
        "data_protection",
        "environment",
        "food_safety",
        "workplace_safety",
        "financial_conduct",
        "consumer_protection",
    },
    "social_organisation": {
        "data_protection",
        "charity_governance",
        "financial_conduct",
        "food_safety",
        "workplace_safety",
    },
    "government_body": {
        "data_protection",
        "environment",
        "workplace_safety",
        "public_procurement",
        "transparency",
    },
    "official": {"conduct_in_office", "public_procurement", "transparency"},
}


@dataclass(frozen=True)
class DemoAgency:
    """A publishing body of the demo."""

    slug: str
    name: str
    jurisdiction: str
    categories: tuple[str, ...]
    second_approval: bool = False


AGENCIES = (
    DemoAgency(
        "ico",
        "Information Commissioner's Office",
        "GB",
        ("data_protection", "transparency", "certification", "voluntary_disclosure"),
        True,
    ),
    DemoAgency(
        "environment-agency", "Environment Agency", "GB", ("environment", "certification", "award")
    ),
    DemoAgency("food-standards-agency", "Food Standards Agency", "GB", ("food_safety", "award")),
    DemoAgency(
        "natural-resources-wales",
        "Natural Resources Wales",
        "GB-WLS",
        ("environment", "community_contribution"),
    ),
    DemoAgency(
        "sepa", "Scottish Environment Protection Agency", "GB-SCT", ("environment", "certification")
    ),
    DemoAgency(
        "charity-commission",
        "Charity Commission for England and Wales",
        "GB",
        ("charity_governance", "financial_conduct", "award", "community_contribution"),
    ),
    DemoAgency(
        "fca",
        "Financial Conduct Authority",
        "GB",
        ("financial_conduct", "consumer_protection", "voluntary_disclosure"),
        True,
    ),
    DemoAgency(
        "standards-commissioner",
        "Parliamentary Commissioner for Standards",
        "GB",
        ("conduct_in_office", "transparency", "public_procurement"),
    ),
    DemoAgency(
        "nyc-dohmh",
        "New York City Department of Health and Mental Hygiene",
        "US-NY",
        ("food_safety", "workplace_safety", "award"),
    ),
    DemoAgency(
        "us-epa",
        "United States Environmental Protection Agency",
        "US",
        ("environment", "voluntary_disclosure", "certification"),
    ),
    DemoAgency(
        "osha",
        "Occupational Safety and Health Administration",
        "US",
        ("workplace_safety", "voluntary_disclosure"),
    ),
    DemoAgency("carb", "California Air Resources Board", "US-CA", ("environment", "award")),
    DemoAgency(
        "us-oig",
        "Office of Inspector General",
        "US",
        ("conduct_in_office", "public_procurement", "transparency"),
        True,
    ),
    DemoAgency(
        "ny-ag",
        "New York State Attorney General",
        "US-NY",
        ("consumer_protection", "charity_governance", "financial_conduct"),
    ),
    DemoAgency(
        "bfdi",
        "Bundesbeauftragte für den Datenschutz und die Informationsfreiheit",
        "DE",
        ("data_protection", "transparency"),
    ),
    DemoAgency(
        "bundeskartellamt", "Bundeskartellamt", "DE", ("consumer_protection", "public_procurement")
    ),
    DemoAgency(
        "cnil",
        "Commission nationale de l'informatique et des libertés",
        "FR",
        ("data_protection", "certification"),
    ),
    DemoAgency(
        "dgccrf",
        "Direction générale de la concurrence, de la consommation et de la répression des fraudes",
        "FR",
        ("consumer_protection", "food_safety"),
    ),
    DemoAgency(
        "aepd",
        "Agencia Española de Protección de Datos",
        "ES",
        ("data_protection", "voluntary_disclosure"),
    ),
    DemoAgency("miteco", "Ministerio para la Transición Ecológica", "ES", ("environment", "award")),
    DemoAgency("dpc-ie", "Data Protection Commission", "IE", ("data_protection", "transparency")),
    DemoAgency(
        "hsa-ie",
        "Health and Safety Authority",
        "IE",
        ("workplace_safety", "environment", "community_contribution"),
    ),
)

TITLES = {
    "data_protection": (
        "Personal data breach not reported within 72 hours",
        "Processing without a lawful basis",
        "Insufficient security of processing",
        "Failure to answer subject access requests",
    ),
    "environment": (
        "Discharge exceeding permit limits",
        "Unpermitted waste storage",
        "Air emissions above the permitted level",
        "Pollution incident to a river",
    ),
    "food_safety": (
        "Food held at unsafe temperatures",
        "Evidence of pests in food areas",
        "Inadequate hand-washing facilities",
        "Allergen information missing",
    ),
    "workplace_safety": (
        "Unguarded machinery",
        "No fall protection at height",
        "Failure to report a workplace injury",
        "Missing hazard training",
    ),
    "financial_conduct": (
        "Misleading financial promotions",
        "Weak anti-money-laundering controls",
        "Accounts filed late",
        "Unauthorised use of restricted funds",
    ),
    "consumer_protection": (
        "Misleading pricing",
        "Unfair contract terms",
        "Subscription traps",
        "Failure to honour refunds",
    ),
    "charity_governance": (
        "Trustees failed to manage conflicts of interest",
        "Annual return not filed",
        "Inadequate safeguarding policies",
    ),
    "public_procurement": (
        "Contract awarded without competition",
        "Conflict of interest in a tender",
        "Splitting of contracts",
    ),
    "conduct_in_office": (
        "Undeclared financial interest",
        "Misuse of public resources",
        "Breach of the code of conduct",
    ),
    "transparency": (
        "Late response to information requests",
        "Register of interests not updated",
        "Failure to publish spending data",
    ),
    "certification": (
        "ISO 14001 environmental management certification",
        "Data protection certification awarded",
        "Accredited safety management",
    ),
    "voluntary_disclosure": (
        "Voluntary disclosure of a compliance failure",
        "Self-reported breach with prompt remediation",
    ),
    "community_contribution": (
        "Community river clean-up programme",
        "Free training for local apprentices",
    ),
    "award": ("Hygiene excellence award", "Regulator's award for good practice"),
}

STATUTES = {
    "data_protection": ("GDPR Art. 33", "GDPR Art. 6", "GDPR Art. 32", "GDPR Art. 15"),
    "environment": (
        "Environmental Permitting Regulations 2016, reg. 38",
        "Clean Water Act §301",
        "Clean Air Act §113",
    ),
    "food_safety": ("Food Safety Act 1990, s. 8", "NYC Health Code §81.09"),
    "workplace_safety": ("29 CFR 1910.212", "Health and Safety at Work etc. Act 1974, s. 2"),
    "financial_conduct": ("FSMA 2000, s. 21", "Money Laundering Regulations 2017, reg. 19"),
    "consumer_protection": ("Consumer Rights Act 2015, s. 62", "UWG §5"),
    "charity_governance": ("Charities Act 2011, s. 169",),
    "public_procurement": ("Public Contracts Regulations 2015, reg. 26", "FAR 3.101-1"),
    "conduct_in_office": ("Code of Conduct, para. 14", "5 CFR 2635.702"),
    "transparency": ("Freedom of Information Act 2000, s. 10", "5 U.S.C. §552"),
}

ROLE_TITLES = (
    "Chief Executive",
    "Mayor",
    "Director of Procurement",
    "Finance Director",
    "Commissioner",
    "Head of Planning",
    "Chief Operating Officer",
)
SECTORS = {
    "business": (
        "retail",
        "food and drink",
        "technology",
        "construction",
        "finance",
        "manufacturing",
        "energy",
        "telecommunications",
        "health care",
        "transport",
    ),
    "social_organisation": (
        "charity",
        "housing association",
        "sports club",
        "education",
        "religious organisation",
        "community group",
    ),
    "government_body": (
        "local government",
        "central government",
        "health service",
        "education authority",
        "police",
    ),
    "official": ("public office",),
}

# Name patterns by country, so that a German council is not a "City Council".
BODY_PATTERNS = {
    "DE": ("Stadt {}", "Landkreis {}", "Gesundheitsamt {}", "Stadtwerke {}"),
    "FR": ("Mairie de {}", "Conseil départemental de {}", "Agence régionale de santé de {}"),
    "ES": ("Ayuntamiento de {}", "Diputación de {}", "Consorcio de Transportes de {}"),
    "default": (
        "{} City Council",
        "{} County",
        "{} Health Authority",
        "{} Transport Authority",
        "{} Police Department",
    ),
}
SOCIAL_PATTERNS = {
    "DE": ("Tafel {} e.V.", "Förderverein {} e.V.", "Sportverein {} e.V."),
    "FR": ("Association des amis de {}", "Banque alimentaire de {}", "Fondation de {}"),
    "ES": ("Fundación {}", "Asociación Vecinal de {}", "Banco de Alimentos de {}"),
    "default": (
        "{} Community Trust",
        "{} Food Bank",
        "{} Housing Association",
        "{} Youth Foundation",
        "Friends of {}",
    ),
}
TRADE_WORDS = {
    "DE": ("Logistik", "Bau", "Lebensmittel", "Technik", "Energie", "Handel"),
    "FR": ("Logistique", "Alimentation", "Construction", "Énergie", "Distribution"),
    "ES": ("Logística", "Alimentación", "Construcciones", "Energía", "Distribución"),
    "default": (
        "Logistics",
        "Foods",
        "Construction",
        "Engineering",
        "Digital",
        "Retail",
        "Energy",
        "Holdings",
    ),
}
