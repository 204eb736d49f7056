# myocds: a two-stage image on Debian 12 slim. The first stage builds the Release binary
# with the same Debian packages as scripts/deps.sh; the second holds the binary, hooks/
# and the runtime libraries only, and runs as an unprivileged user.
#
#   docker build -t myocds .
#   docker run -p 8080:8080 -v ./myocds.json:/etc/myocds/myocds.json:ro myocds
#
# The default command listens on 0.0.0.0:8080 and so requires a JWT on every call
# (--dev is refused off loopback): configure auth.issuers in /etc/myocds/myocds.json.

FROM debian:12-slim AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        build-essential cmake pkg-config libmicrohttpd-dev libjson-c-dev libjwt-dev \
        libcurl4-openssl-dev libssl-dev libsqlite3-dev uuid-dev libpq-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY include include
COPY src src
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF -DMYOCDS_WERROR=ON \
 && cmake --build build -j "$(nproc)" \
 && strip build/myocds

FROM debian:12-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libmicrohttpd12 libjson-c5 libjwt0 libcurl4 libssl3 libsqlite3-0 libuuid1 libpq5 \
        ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /var/lib/myocds --create-home \
        --shell /usr/sbin/nologin myocds \
 && mkdir -p /etc/myocds \
 && echo '{"data_dir": "/var/lib/myocds/data"}' > /etc/myocds/myocds.json
COPY --from=build /src/build/myocds /usr/local/bin/myocds
COPY hooks /usr/share/myocds/hooks
ENV MYOCDS_HOOKS=/usr/share/myocds/hooks
USER myocds
WORKDIR /var/lib/myocds
EXPOSE 8080
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/myocds"]
CMD ["serve", "--bind", "0.0.0.0", "--port", "8080", "--config", "/etc/myocds/myocds.json"]
