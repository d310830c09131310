"""Every source the decision rules cite, defined once.

Review sources point into the bundled review (``shared/reference/liver-metastasis-review.txt``)
by section title and bracketed reference number; the review has no reference list, so the
number is the one printed at the end of the paragraph concerned (``None`` where the paragraph
carries none). Primary papers and guidelines are cited by journal reference; ``check=True``
marks a citation whose exact figure was taken from secondary notes and has not been confirmed
against the paper's text here.

``BASIS`` tells a reader how much weight a statement carries:

* ``review``: stated in the review (the project's clinical ground truth);
* ``primary``: a primary paper (calculator definitions, trials);
* ``guideline``: an external clinical practice guideline;
* ``judgement``: a livermet convention where the review is silent. The team decides; the rule
  only makes the convention visible.
"""

from __future__ import annotations

from livermet.calculators.base import Source

REVIEW = "Liver-metastasis review"


def review(section: str, ref: int | None = None) -> Source:
    """A statement of the bundled review: ``section`` title and reference number."""
    return Source(citation=REVIEW, review_section=section, review_ref=ref)


def label(source: Source) -> str:
    """Short label: "review, Surgical Resection [38]" or the primary citation."""
    if source.citation == REVIEW:
        ref = f" [{source.review_ref}]" if source.review_ref is not None else ""
        return f"review, {source.review_section}{ref}"
    text = source.citation
    if source.review_section:
        ref = f" [{source.review_ref}]" if source.review_ref is not None else ""
        text += f" (review, {source.review_section}{ref})"
    if source.check:
        text += " (figure not confirmed against the paper)"
    return text


def source_dict(source: Source) -> dict:
    d = source.to_dict()
    d["text"] = label(source)
    d["kind"] = "review" if source.citation == REVIEW else "external"
    return d


# --- The review, by section --------------------------------------------------------------
R_ABSTRACT = review("Abstract")
R_ANATOMY = review("Surgical Anatomy", 11)
R_ANATOMY_SPARING = review("Surgical Anatomy", 12)
R_PHYSIOLOGY_80 = review("Relevant Physiology", 14)
R_PHYSIOLOGY_PVE = review("Relevant Physiology", 15)
R_HISTOLOGY = review("Histological Patterns", 18)
R_EXAM = review("Physical Examination")
R_PRIMARY_SOURCES = review("Primary Sources", 21)
R_CRC = review("Hepatic colorectal adenocarcinoma metastasis", 22)
R_NET = review("Hepatic neuroendocrine carcinoma metastasis", 23)
R_BREAST = review("Hepatic Breast Cancer Metastasis", 24)
R_UVEAL = review("Hepatic Ocular (Uveal) Melanoma Metastasis", 25)
R_SARCOMA = review("Hepatic sarcoma metastasis", 26)
R_GIST = review("Hepatic sarcoma metastasis", 27)
R_WORKUP = review("Work Up", 28)
R_WORKUP_US = review("Work Up")  # US 64%, CEUS 80-90%: paragraphs without a number
R_IOUS = review("Work Up", 29)
R_CEIOUS = review("Work Up", 30)
R_CECT = review("Work Up", 31)
R_MRI = review("Work Up", 33)
R_HSCA = review("Work Up", 34)
R_PET = review("Work Up")  # PET-CT paragraph carries no number
R_DOTATATE = review("Work Up", 35)
R_LAPAROSCOPY = review("Work Up", 36)
R_FLR = review("Surgical Resection", 37)
R_FLR_MIN = review("Surgical Resection", 38)
R_FLR_25 = review("Surgical Resection")  # "insufficient (i.e., 25%)": paragraph without a number
R_SAFETY = review("Surgical Resection", 39)
R_MAKUUCHI = review("Surgical Resection", 40)
R_PVE = review("Surgical Resection", 41)
R_TECHNIQUE = review("Techniques of Liver Resection")
R_LIGASURE = review("Techniques of Liver Resection", 42)
R_RF_RESECTION = review("Techniques of Liver Resection", 43)
R_TWO_STAGE = review("Two-Stage Hepatectomy", 44)
R_TRANSPLANT = review("Liver Transplantation", 45)
R_CHEMO = review("Chemotherapeutic Agents", 46)
R_BIOLOGICS = review("Role of Biological Agents", 47)
R_HAI = review("Hepatic arterial infusion", 48)
R_TACE = review("Chemoembolization", 49)
R_IHP = review("Isolated hepatic perfusion", 50)
R_ABLATION_RECURRENCE = review("Tumour Ablation", 51)
R_ABLATION = review("Tumour Ablation", 52)
R_RADIATION = review("Radiation-Based Therapies", 53)
R_WLRT = review("Radiation-Based Therapies", 54)
R_DISAPPEARING = review("Disappearing Metastasis", 55)
R_CONCLUSIONS = review("Conclusions")

# --- Primary papers (calculator definitions: shared/reference/calculators.md) ------------
KISHI_2009 = Source("Kishi, Ann Surg 2009;250:540")
SHINDOH_2013_CHEMO = Source("Shindoh, Ann Surg Oncol 2013;20:2493")
KUBOTA_1997 = Source("Kubota, Hepatology 1997;26:1176")
SHINDOH_2013_KGR = Source("Shindoh, J Am Coll Surg 2013;216:201")
NAGINO_2010 = Source("Yokoyama/Nagino, Br J Surg 2010;97:1260")
MAKUUCHI_1993 = Source("Makuuchi, Semin Surg Oncol 1993;9:298; Imamura, Arch Surg 2003;138:1198",
                       review_section="Surgical Resection", review_ref=40, check=True)
BRISBANE_2000 = Source("Strasberg SM et al. The Brisbane 2000 terminology of liver anatomy and resections. HPB 2000;2:333-339",
                       review_section="Surgical Anatomy", review_ref=11)
PUGH_1973 = Source("Pugh, Br J Surg 1973;60:646")
MAZZAFERRO_2007 = Source("Mazzaferro, J Hepatol 2007;47:460", review_section="Liver Transplantation",
                         review_ref=45)
TRANSMET_2024 = Source("Adam, Lancet 2024;404:1107 (TRANSMET)")
OSLO = Source("Dueland, Ann Surg (Oslo score)", check=True)
RECIST_2009 = Source("Eisenhauer, Eur J Cancer 2009;45:228 (RECIST 1.1)")
RUBBIA_BRANDT_2007 = Source("Rubbia-Brandt, Ann Oncol 2007;18:299 (TRG)")
SIRT_BSA = Source("Resin microsphere BSA method (calculators.md, section 6)", check=True)
# The manufacturer's US page lists "greater than 20% lung shunting" among the contraindications.
SIRTEX_US_CONTRAINDICATIONS = Source("Sirtex Medical, SIR-Spheres approved indication and "
                                     "contraindications (US): greater than 20% lung shunting")
WHO_NET_2019 = Source("Nagtegaal, Histopathology 2020;76:182 (WHO 2019 digestive NEN grading)")
BLAZER_2008 = Source("Blazer, J Clin Oncol 2008;26:5344", check=True)

# --- Primary papers used where the review is silent -------------------------------------
OKEN_1982 = Source("Oken, Am J Clin Oncol 1982;5:649 (ECOG performance status)")
ADAM_2004 = Source("Adam, Ann Surg 2004;240:1052 (progression on chemotherapy before hepatectomy)")
ADAMS_2013 = Source("Adams, HPB (Oxford) 2013;15:91 (resectability consensus)", check=True)
SCHNITZBAUER_2012 = Source("Schnitzbauer, Ann Surg 2012;255:405 (ALPPS)")
# Citation confirmed (PubMed: Ann Surg 2005;242(2):158-171); the abstract reports fewer local
# recurrences with smaller size but gives no cut-off, so the 3 cm figure stays unconfirmed.
MULIER_2005 = Source("Mulier, Ann Surg 2005;242(2):158-171 (local recurrence after RFA by size)",
                     doi="10.1097/01.sla.0000171032.99149.fe", check=True)
# Confirmed (PMC5408999): "unresectable colorectal liver metastases (n < 10 and no extrahepatic
# disease)".
CLOCC_2017 = Source("Ruers, J Natl Cancer Inst 2017;109(9):djx015 (CLOCC, EORTC 40004: fewer than "
                    "10 liver metastases, no extrahepatic disease)", doi="10.1093/jnci/djx015")
RUSTHOVEN_2009 = Source("Rusthoven, J Clin Oncol 2009;27:1572 (liver SBRT phase I/II)", check=True)
# The phase I part of the same trial, read: "Eligible patients had one to three liver
# metastases, tumor diameter <6 cm ... At least 700 mL of normal liver had to receive a total
# dose <15 Gy" (60 Gy in 3 fractions reached without dose-limiting toxicity).
SCHEFTER_2005 = Source("Schefter, Int J Radiat Oncol Biol Phys 2005;62(5):1371-1378 (phase I liver "
                       "SBRT: 1-3 metastases, tumour diameter < 6 cm)")
NORDLINGER_2008 = Source("Nordlinger, Lancet 2008;371:1007 (EORTC 40983, perioperative FOLFOX)")
NEW_EPOC_2014 = Source("Primrose, Lancet Oncol 2014;15:601 (New EPOC, no cetuximab around resection)")
BENOIST_2006 = Source("Benoist, J Clin Oncol 2006;24:3939 (complete response of CRLM)")

# --- External guidelines and trials for systemic therapy ---------------------------------
ESMO_MCRC_2023 = Source("Cervantes, Ann Oncol 2023;34:10 (ESMO mCRC guideline 2023)")
BEACON_2019 = Source("Kopetz, N Engl J Med 2019;381:1632 (BEACON, encorafenib + cetuximab)")
KEYNOTE177_2020 = Source("Andre, N Engl J Med 2020;383:2207 (KEYNOTE-177, pembrolizumab)")
MOUNTAINEER_2023 = Source("Strickler, Lancet Oncol 2023;24:496 (MOUNTAINEER, tucatinib + trastuzumab)",
                          check=True)
CLARINET_2014 = Source("Caplin, N Engl J Med 2014;371:224 (CLARINET, lanreotide)")
PROMID_2009 = Source("Rinke, J Clin Oncol 2009;27:4656 (PROMID, octreotide LAR)")
TEBENTAFUSP_2021 = Source("Nathan, N Engl J Med 2021;385:1196 (tebentafusp, HLA-A*02:01)")
# The review gives IHP's response rate without naming a primary [50]; the uveal-melanoma
# indication is this randomised trial's (added by the clinical review, docs/clinical-review.md).
# Confirmed (research.ku.dk record): J Clin Oncol 2023;41(16):3042-3050. Final results (PubMed
# 38420778): Ann Surg 2025;282(1):100-107, 24-month OS 46.5% vs 29.5% (P = 0.12).
SCANDIUM_2023 = Source("Olofsson Bagge, J Clin Oncol 2023;41(16):3042-3050 (SCANDIUM, IHP for "
                       "uveal melanoma liver metastases)", doi="10.1200/JCO.22.01705")
SCANDIUM_2025 = Source("Olofsson Bagge, Ann Surg 2025;282(1):100-107 (SCANDIUM final results: "
                       "overall survival and quality of life)", doi="10.1097/SLA.0000000000006255")
ABC5_2020 = Source("Cardoso, Ann Oncol 2020;31:1623 (ESO-ESMO ABC5 advanced breast cancer)")

# --- livermet conventions ---------------------------------------------------------------
JUDGEMENT = Source("livermet convention (the review is silent; for the team to confirm)")
