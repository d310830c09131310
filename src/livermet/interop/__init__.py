"""livermet.interop"""
