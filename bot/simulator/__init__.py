"""The resident simulator: a WeChat-like chat page that talks to `/wechat` exactly as the platform does.

It lets a tester (or a demo audience) be a resident without a phone or a registered account, while
still exercising the real transport: signatures, AES, de-duplication, the deadline and replies.
"""
