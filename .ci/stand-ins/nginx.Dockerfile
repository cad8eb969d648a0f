# CI stand-in for nginx:1.27, from Debian trixie's nginx 1.26 (bookworm's 1.22 predates `http2 on;`):
# conf.d/*.conf included inside http {}, no default site, logs on the container's output, a
# graceful stop on SIGQUIT.
ARG BASE
FROM ${BASE}
RUN rm -f /etc/nginx/sites-enabled/default \
 && ln -sf /dev/stdout /var/log/nginx/access.log && ln -sf /dev/stderr /var/log/nginx/error.log
EXPOSE 80 443
STOPSIGNAL SIGQUIT
CMD ["nginx", "-g", "daemon off;"]
