# syntax=docker/dockerfile:1
# Two stages, after dotnet/dotnet-docker samples/aspnetapp: restore on its own layer (it only changes
# when a project file or a package version does), then publish, then run on the ASP.NET runtime image.
#   docker build -t queueapi .
#   docker run --rm -p 8080:8080 --read-only --tmpfs /tmp -v queueapi-data:/data queueapi

# The SDK runs on the build machine's own architecture; -a $TARGETARCH cross-targets the output, so a
# multi-platform build (docker buildx --platform linux/amd64,linux/arm64) needs no emulation.
FROM --platform=$BUILDPLATFORM mcr.microsoft.com/dotnet/sdk:10.0 AS build
ARG TARGETARCH
WORKDIR /source

# Restore layer: only what restore reads. global.json pins the SDK band; the props files hold the
# central package versions and the build settings (warnings as errors, analyzers).
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/QueueApi.Engine/QueueApi.Engine.csproj src/QueueApi.Engine/
COPY src/QueueApi.Storage.Sqlite/QueueApi.Storage.Sqlite.csproj src/QueueApi.Storage.Sqlite/
COPY src/QueueApi.Storage.Postgres/QueueApi.Storage.Postgres.csproj src/QueueApi.Storage.Postgres/
COPY src/QueueApi/QueueApi.csproj src/QueueApi/
RUN dotnet restore src/QueueApi/QueueApi.csproj -a $TARGETARCH

# Publish layer: the sources (tests, deploy/ and CI files are kept out by .dockerignore).
COPY src/ src/
RUN dotnet publish src/QueueApi/QueueApi.csproj -c Release -a $TARGETARCH --no-restore -o /app

# Runtime: the aspnet image has no shell tools such as curl, so there is no HEALTHCHECK here;
# Kubernetes probes /health/live and /health/ready over HTTP instead (deploy/kubernetes/).
FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS final
ENV ASPNETCORE_HTTP_PORTS=8080
EXPOSE 8080
WORKDIR /app
COPY --from=build /app .
# Accepted messages live in a SQLite file on a volume, owned by the non-root "app" user ($APP_UID, 1654,
# defined by the .NET images): a new named volume copies this ownership, so the file is writable without root.
RUN mkdir /data && chown $APP_UID:$APP_UID /data
VOLUME /data
ENV QueueApi__Storage__Path=/data/queueapi.db
USER $APP_UID
ENTRYPOINT ["./QueueApi"]
