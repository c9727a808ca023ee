"""juki: the national directory of identity records (住民基本台帳ネットワーク, 本人確認情報).

Every city reports the 本人確認情報 of its residents — resident code,
individual number, the four basic facts and the municipality — whenever a
record changes; juki keeps each city's newest version and answers one
question for the issuance center: which city holds this person's record now.
"""
