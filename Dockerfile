# syntax=docker/dockerfile:1
# ClipService: build the solution's web host, run it on a CUDA 13 + cuDNN 9 base so ONNX Runtime's CUDA provider
# can load (Microsoft.ML.OnnxRuntime.Gpu 1.31 needs libcublasLt.so.13 and cuDNN 9). Without a GPU the same
# image runs on the CPU. Override the base with --build-arg CUDA_IMAGE=... .
ARG DOTNET_VERSION=10.0
ARG CUDA_IMAGE=nvidia/cuda:13.0.1-cudnn-runtime-ubuntu24.04

FROM mcr.microsoft.com/dotnet/sdk:${DOTNET_VERSION}-noble AS build
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/ClipService.Core/ClipService.Core.csproj src/ClipService.Core/
COPY src/ClipService/ClipService.csproj src/ClipService/
RUN dotnet restore src/ClipService/ClipService.csproj
COPY src/ src/
RUN dotnet publish src/ClipService/ClipService.csproj -c Release --no-restore -o /app

# The ASP.NET Core runtime, taken from Microsoft's image of the same Ubuntu release as the CUDA base.
FROM mcr.microsoft.com/dotnet/aspnet:${DOTNET_VERSION}-noble AS dotnet

FROM ${CUDA_IMAGE} AS runtime
COPY --from=dotnet /usr/share/dotnet /usr/share/dotnet
RUN ln -s /usr/share/dotnet/dotnet /usr/bin/dotnet \
    && apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl libicu74 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --uid 10001 --no-create-home --shell /usr/sbin/nologin clip
WORKDIR /app
COPY --from=build /app ./
COPY models/clip-shapes/ ./models/clip-shapes/
ENV ASPNETCORE_URLS=http://+:8080 \
    ASPNETCORE_ENVIRONMENT=Production \
    DOTNET_RUNNING_IN_CONTAINER=true \
    Clip__ModelsPath=/app/models \
    Logging__Json=true
USER 10001
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
    CMD curl -fsS http://localhost:8080/health/live || exit 1
ENTRYPOINT ["dotnet", "/app/ClipService.dll"]
