"""The WeChat transport: the inbound webhook and the outbound API client."""
