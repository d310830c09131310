"""livermet.imaging"""
