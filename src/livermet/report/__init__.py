"""livermet.report"""
