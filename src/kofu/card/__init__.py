"""The My Number card as a secure element behind an APDU interface.

- ``apdu``: ISO/IEC 7816-4 command and response APDUs, status words.
- ``jpki_ap``: the JPKI application's AID, file ids, PIN rules and issuer MAC.
- ``element``: ``SecureElement``, the chip, reachable only through ``transmit``.
- ``reader``: ``CardReader`` (what a PC/SC reader would implement) and ``JpkiCard``,
  the host-side client.
- ``storage``: the card as a sealed file a person carries (``save_card``, ``load_card``).
"""
