"""Social login: OAuth 2.0 and OpenID Connect providers, with PKCE on both legs."""
