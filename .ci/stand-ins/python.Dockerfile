# CI stand-in for python:3.11-slim, on a Debian base bootstrapped offline (.ci/docker_stack.sh):
# `python` and `pip` on PATH (a venv over Debian's Python 3.11), `useradd`, UTF-8. pip trusts the
# CI machine's CA bundle, given as ca-certificates.crt in the build context; never shipped.
ARG BASE
FROM ${BASE}
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
RUN python3 -m venv /usr/local/python
ENV PATH=/usr/local/python/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 PIP_CERT=/etc/ssl/certs/ca-certificates.crt PIP_DISABLE_PIP_VERSION_CHECK=1
CMD ["python3"]
