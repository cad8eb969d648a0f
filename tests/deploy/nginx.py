"""docker/nginx.conf under this machine's nginx, without Docker. The file goes, as the compose file
mounts it, into the `http {}` block of a minimal nginx.conf of our own under a temporary prefix;
only what Docker provides is swapped in the copy: the upstream host `app`, the ports 80 and 443,
and the certificate folder (a self-signed certificate here).
"""
from __future__ import annotations

import asyncio
import datetime
import ipaddress
import os
import pwd
import re
import shutil
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.deploy.compose import ROOT
from tests.faults.conftest import free_port, wait_port

NGINX_CONF = ROOT / "docker" / "nginx.conf"
CERT_DIR = "/etc/nginx/certs"  # where compose mounts docker/certs in the nginx container
HTTP2_DIRECTIVE = (1, 25, 1)  # `http2 on;` is this new; older nginx spells it `listen ... http2`


def nginx_binary() -> str | None:
    return shutil.which("nginx", path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"]))


def nginx_version(binary: str) -> tuple[int, ...]:
    out = subprocess.run([binary, "-v"], capture_output=True, text=True, check=True).stderr
    return tuple(int(n) for n in re.search(r"nginx/(\d+)\.(\d+)\.(\d+)", out).groups())


def upstream_address(conf: str) -> tuple[str, int]:
    host, port = re.search(r"^\s*server\s+([\w.-]+):(\d+)\s*;", conf, re.M).groups()
    return host, int(port)


def _replace(pattern: str, replacement: str, text: str, count: int) -> str:
    """re.subn that insists on `count` matches: the copy fails loudly if the file changes shape."""
    result, found = re.subn(pattern, replacement, text, flags=re.M)
    assert found == count, f"expected {count} match(es) of {pattern!r} in docker/nginx.conf, found {found}"
    return result


def local_site(conf: str, upstream_port: int, http_port: int, https_port: int, certs: Path,
               version: tuple[int, ...]) -> str:
    conf = _replace(r"(^\s*server\s+)app:\d+;", rf"\g<1>127.0.0.1:{upstream_port};", conf, 1)
    conf = _replace(r"(^\s*listen\s+)80;", rf"\g<1>127.0.0.1:{http_port};", conf, 1)
    conf = _replace(r"(^\s*listen\s+)443 ssl;", rf"\g<1>127.0.0.1:{https_port} ssl;", conf, 1)
    conf = _replace(re.escape(CERT_DIR) + "/", f"{certs}/", conf, 2)
    if version < HTTP2_DIRECTIVE:
        conf = _replace(r"^\s*http2 on;\n", "", conf, 1)
        conf = _replace(rf"(listen 127\.0\.0\.1:{https_port} ssl);", r"\1 http2;", conf, 1)
    return conf


def write_certificate(folder: Path) -> None:
    """A self-signed certificate for 127.0.0.1 under the names the README asks for."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "xinzhan.test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .sign(key, hashes.SHA256()))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "fullchain.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "privkey.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                           serialization.PrivateFormat.PKCS8,
                                                           serialization.NoEncryption()))


def main_conf(prefix: Path) -> str:
    """The smallest nginx.conf that, like the image's, includes conf.d/*.conf inside `http {}`."""
    temp = "\n    ".join(f"{kind}_temp_path {prefix}/temp/{kind};"
                         for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return f"""user {pwd.getpwuid(os.geteuid()).pw_name};
worker_processes 1;
pid {prefix}/nginx.pid;
lock_file {prefix}/nginx.lock;
error_log {prefix}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    {temp}
    include {prefix}/conf.d/*.conf;
}}
"""


@dataclass
class Nginx:
    binary: str
    prefix: Path
    http_port: int
    https_port: int
    proc: subprocess.Popen | None = None

    @classmethod
    def prepare(cls, binary: str, prefix: Path, upstream_port: int) -> "Nginx":
        nginx = cls(binary, prefix, free_port(), free_port())
        (prefix / "conf.d").mkdir(parents=True)
        (prefix / "temp").mkdir()
        write_certificate(prefix / "certs")
        (prefix / "conf.d" / "default.conf").write_text(
            local_site(NGINX_CONF.read_text(encoding="utf-8"), upstream_port, nginx.http_port, nginx.https_port,
                       prefix / "certs", nginx_version(binary)))
        (prefix / "nginx.conf").write_text(main_conf(prefix))
        return nginx

    def command(self, *extra: str) -> list[str]:
        return [self.binary, "-p", str(self.prefix), "-c", str(self.prefix / "nginx.conf"), *extra]

    def test_config(self) -> subprocess.CompletedProcess:
        """`nginx -t`: the configuration parses, every directive is known, the certificate loads."""
        return subprocess.run(self.command("-t"), capture_output=True, text=True)

    async def start(self) -> None:
        self.proc = subprocess.Popen(self.command("-g", "daemon off;"), stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        await wait_port(self.https_port)

    async def stop(self) -> int | None:
        """A graceful stop (SIGQUIT); the exit status, None if it was never started."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
        try:
            return await asyncio.wait_for(asyncio.to_thread(self.proc.wait), 20)
        except asyncio.TimeoutError:
            self.proc.kill()
            return await asyncio.to_thread(self.proc.wait)

    def errors(self) -> str:
        log = self.prefix / "error.log"
        return log.read_text(errors="replace")[-3000:] if log.exists() else ""
