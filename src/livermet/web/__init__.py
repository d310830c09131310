"""livermet.web"""
