"""The method as data: contacts, techniques, the pressure scale, routines and their loader."""
