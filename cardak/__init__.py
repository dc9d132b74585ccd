"""Cardak: the command-line tool, and (in cardak.v1, generated from protos/) the contract."""
