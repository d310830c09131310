"""livermet: decision support for the liver-metastasis multidisciplinary team.

Data flows one way: case + images -> imaging -> scores -> decision -> report/export.
Not a medical device: every output supports, and never replaces, the team's judgement.
"""

__version__ = "0.1.0"
