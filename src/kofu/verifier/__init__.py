"""The public verifier: a static page that checks a certificate's QR code in the browser."""
