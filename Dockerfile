# keyleak as a container image: `docker build -t keyleak .`, then
#   docker run --rm -it -e AWS_PROFILE -v ~/.aws:/home/nonroot/.aws:ro -v "$PWD":/cases -w /cases keyleak contain --key AKIA…
# The runbook needs a terminal (-it); the case directory is written to the
# mounted working directory, so that it outlives the container.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=container
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X github.com/keyleak/keyleak/internal/cli.Version=${VERSION}" \
      -o /out/keyleak ./cmd/keyleak

# distroless: CA certificates for AWS's endpoints, no shell, a non-root user.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/keyleak /usr/local/bin/keyleak
USER nonroot
ENTRYPOINT ["/usr/local/bin/keyleak"]
