"""livermet.decision"""
