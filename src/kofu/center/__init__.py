"""The Certificate Issuance Center (証明書交付センター): authentication, routing, anti-forgery."""
