# syntax=docker/dockerfile:1
# ClipService images, from one Dockerfile and one solution:
#   docker build -t clipservice .                                # default target `cpu`: ONNX Runtime's CPU package on
#                                                                #   the chiseled ASP.NET Core runtime (no shell, no apt)
#   docker build --target cuda -t clipservice:cuda .             # CUDA 13 + cuDNN 9 base, ONNX Runtime's GPU package
# Bases are build arguments (public images by default) so a machine without a registry can name local stand-ins
# (deploy/container-test.sh does). Digests: SDK_IMAGE and ASPNET_IMAGE are pinned to the digests a public scan
# report listed for those tags on 2026-10-02; RUNTIME_IMAGE and CUDA_IMAGE are tags only. None of the four could be
# checked against the registry from the machine this was written on (no registry reachable): refresh the digests
# with `docker buildx imagetools inspect <tag>` before relying on them.
ARG SDK_IMAGE=mcr.microsoft.com/dotnet/sdk:10.0-noble@sha256:e70cdb7f80b0348f5cb85f19a8f670fca061f033d57eed12fa003d58b0e06317
ARG RUNTIME_IMAGE=mcr.microsoft.com/dotnet/aspnet:10.0-noble-chiseled-extra
ARG ASPNET_IMAGE=mcr.microsoft.com/dotnet/aspnet:10.0-noble@sha256:222759b391a1aaf241166672c8f99b2d4ada452e7b5319f3c6e8f265a37b5ad4
ARG CUDA_IMAGE=nvidia/cuda:13.0.1-cudnn-runtime-ubuntu24.04
# OCI labels: docker build --build-arg VERSION=1.2.0 --build-arg REVISION=$(git rev-parse HEAD) --build-arg SOURCE=<repo URL>

FROM ${SDK_IMAGE} AS source
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/ClipService.Core/ClipService.Core.csproj src/ClipService.Core/
COPY src/ClipService/ClipService.csproj src/ClipService/

# OnnxRuntimeFlavor (Directory.Build.props) picks Microsoft.ML.OnnxRuntime (Cpu) or .Gpu.Linux (Cuda).
# ReadyToRun: precompiled code starts the service ~15 % sooner (time to /health/ready, measured on the development
# machine) for ~32 MB more image.
FROM source AS publish-cpu
RUN dotnet restore src/ClipService/ClipService.csproj -p:OnnxRuntimeFlavor=Cpu -p:PublishReadyToRun=true
COPY src/ src/
RUN dotnet publish src/ClipService/ClipService.csproj -c Release --no-restore -p:OnnxRuntimeFlavor=Cpu -p:PublishReadyToRun=true -o /app

FROM source AS publish-cuda
RUN dotnet restore src/ClipService/ClipService.csproj -p:OnnxRuntimeFlavor=Cuda -p:PublishReadyToRun=true
COPY src/ src/
RUN dotnet publish src/ClipService/ClipService.csproj -c Release --no-restore -p:OnnxRuntimeFlavor=Cuda -p:PublishReadyToRun=true -o /app

# The distribution's libjpeg-turbo with its SIMD code: JPEG pixels 2–2.5× faster than Skia's bundled copy (built
# without SIMD), the same bytes. Taken from the package here and copied beside the app, since the chiseled runtime
# has no package manager (so image scanners, which read the package lists, do not see it: it is libjpeg-turbo from
# the SDK base's release, updated with each rebuild). Ubuntu names the package libturbojpeg, Debian libturbojpeg0.
FROM ${SDK_IMAGE} AS turbojpeg
RUN apt-get update \
    && if apt-get install -y --no-install-recommends libturbojpeg0; then package=libturbojpeg0; \
       else package=libturbojpeg && apt-get install -y --no-install-recommends "$package"; fi \
    && mkdir /out && cp -L "$(dpkg -L "$package" | grep '/libturbojpeg\.so\.0$')" /out/libturbojpeg.so.0 \
    && cp "/usr/share/doc/$package/copyright" /out/libturbojpeg.copyright \
    && rm -rf /var/lib/apt/lists/*

# The ASP.NET Core runtime for the CUDA image, from Microsoft's image of the same Ubuntu release as the CUDA base.
FROM ${ASPNET_IMAGE} AS aspnet

# CUDA 13 + cuDNN 9: what ONNX Runtime 1.31's CUDA provider loads (libcublasLt.so.13, libcudnn.so.9). Without a GPU
# it runs on the CPU too (the CPU image is the smaller choice there).
FROM ${CUDA_IMAGE} AS cuda
ARG VERSION=dev REVISION=unknown SOURCE=unknown
COPY --from=aspnet /usr/share/dotnet /usr/share/dotnet
RUN ln -s /usr/share/dotnet/dotnet /usr/bin/dotnet \
    && apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates libicu74 \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=publish-cuda /app ./
COPY --from=turbojpeg /out/libturbojpeg.so.0 ./
COPY --from=turbojpeg /out/libturbojpeg.copyright /usr/share/doc/libturbojpeg/copyright
COPY models/clip-shapes/ ./models/clip-shapes/
ENV ASPNETCORE_HTTP_PORTS=8080 \
    ASPNETCORE_ENVIRONMENT=Production \
    DOTNET_RUNNING_IN_CONTAINER=true \
    Clip__ModelsPath=/app/models \
    Clip__ExecutionProvider__Provider=Cuda \
    Logging__Json=true
LABEL org.opencontainers.image.title="ClipService (CUDA)" \
      org.opencontainers.image.description="CLIP zero-shot image classification over HTTP; ONNX Runtime on CUDA 13 + cuDNN 9, CPU fallback" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE}"
USER 10001
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=10s --start-period=60s --retries=3 \
    CMD ["dotnet", "/app/ClipService.dll", "healthcheck"]
ENTRYPOINT ["dotnet", "/app/ClipService.dll"]

# Both runtime bases are Ubuntu 24.04 (glibc 2.39): the native tokenizer library of the non-CLIP families
# (Tokenizers.DotNet) needs glibc 2.34 or newer; deploy/container-test.sh checks that the image serves every family.

# Default target. Nothing here runs a command in the image (no RUN): the chiseled runtime has no shell.
# Its last lines repeat the cuda target's: a Dockerfile shares instructions between stages on different bases only
# through `FROM stage-${ARG}`, which podman 4.3 (Debian 12, what deploy/container-test.sh runs) cannot build.
FROM ${RUNTIME_IMAGE} AS cpu
ARG VERSION=dev REVISION=unknown SOURCE=unknown
WORKDIR /app
COPY --from=publish-cpu /app ./
COPY --from=turbojpeg /out/libturbojpeg.so.0 ./
COPY --from=turbojpeg /out/libturbojpeg.copyright /usr/share/doc/libturbojpeg/copyright
COPY models/clip-shapes/ ./models/clip-shapes/
# ASPNETCORE_HTTP_PORTS is the lowest-precedence address setting, so `-e ASPNETCORE_URLS=...` or `--urls` override it.
ENV ASPNETCORE_HTTP_PORTS=8080 \
    ASPNETCORE_ENVIRONMENT=Production \
    DOTNET_RUNNING_IN_CONTAINER=true \
    Clip__ModelsPath=/app/models \
    Logging__Json=true
LABEL org.opencontainers.image.title="ClipService" \
      org.opencontainers.image.description="CLIP zero-shot image classification over HTTP; ONNX Runtime on the CPU" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE}"
# A numeric UID, so Kubernetes' runAsNonRoot can verify it; files stay root-owned and read-only to the service.
USER 10001
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=10s --start-period=60s --retries=3 \
    CMD ["dotnet", "/app/ClipService.dll", "healthcheck"]
ENTRYPOINT ["dotnet", "/app/ClipService.dll"]
