"""The My Number card as a secure element behind an APDU interface.

- ``apdu``: ISO/IEC 7816-4 command and response APDUs, status words.
- ``jpki_ap``: the JPKI application's AID, file ids, PIN rules and issuer MAC.
- ``element``: ``SecureElement``, the chip, reachable only through ``transmit``.
- ``reader``: ``CardReader`` (what a PC/SC reader would implement) and ``JpkiCard``,
  the host-side client.
- ``storage``: the card as a sealed file a person carries (``save_card``, ``load_card``).
- ``ledger``: ``CardLedger``, each card's newest state under KOFU_HOME, so a restored
  older copy of a card file is refused (``card_rolled_back``), and each card's lock.
- ``device``: the card in a reader — ``open_card`` in this process, ``CardServer`` as a
  process of its own (``kofu card serve``), ``SocketReader`` the host's side of it.
"""
