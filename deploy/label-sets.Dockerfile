# A ClipService image with its default model's label-set embeddings computed at build time, so every replica
# started from it serves label_set=imagenet at once, with no precompute and no shared volume:
#   podman build -f deploy/label-sets.Dockerfile --build-arg IMAGE=clipservice:cpu -t clipservice:cpu-label-sets .
# IMAGE is any ClipService image (one with a real checkpoint under /app/models included); the embeddings are keyed by
# the model's text-side files, so a replica never uses them for another model. The build uses every core it is given.
ARG IMAGE=clipservice:cpu

FROM ${IMAGE} AS compute
# Exec form: the chiseled runtime has no shell.
RUN ["dotnet", "/app/ClipService.dll", "precompute-label-sets", "--cache-path", "/tmp/label-sets"]

FROM ${IMAGE}
COPY --from=compute /tmp/label-sets/ /app/label-sets/
# Read-only to the service (root-owned): sets it lacks, or other models' sets, are computed in memory on first use.
ENV Clip__LabelSets__CachePath=/app/label-sets
