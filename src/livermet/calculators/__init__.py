"""livermet.calculators"""
