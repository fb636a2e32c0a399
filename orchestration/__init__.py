"""The steps that span apps, one level above them: a finished analysis is stored, routed to
review and announced to the client's callback URL. Apps below never import this package."""
