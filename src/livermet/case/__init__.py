"""livermet.case"""
