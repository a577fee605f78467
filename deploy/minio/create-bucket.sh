#!/bin/sh
# Creates the Sarabun bucket on MinIO (idempotent). Runs once in the minio-setup container (minio/mc).
# Environment: MINIO_URL (http://minio:9000), MINIO_ROOT_USER, MINIO_ROOT_PASSWORD, SARABUN_BUCKET (sarabun).
set -eu

MINIO_URL="${MINIO_URL:-http://minio:9000}"
BUCKET="${SARABUN_BUCKET:-sarabun}"
: "${MINIO_ROOT_USER:?MINIO_ROOT_USER is required}"
: "${MINIO_ROOT_PASSWORD:?MINIO_ROOT_PASSWORD is required}"

# MinIO may still be starting: retry the alias for up to a minute.
tries=0
until mc alias set sarabun "$MINIO_URL" "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" >/dev/null 2>&1; do
    tries=$((tries + 1))
    if [ "$tries" -ge 30 ]; then
        echo "create-bucket: MinIO at $MINIO_URL did not accept the credentials" >&2
        exit 1
    fi
    sleep 2
done

mc mb --ignore-existing "sarabun/$BUCKET"
echo "create-bucket: bucket $BUCKET ready on $MINIO_URL"
