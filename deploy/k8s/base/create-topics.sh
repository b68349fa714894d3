#!/usr/bin/env bash
# Create finsentry's Kafka topics; safe to re-run (existing topics are left as they are).
# Runs inside the apache/kafka image, both as the compose `kafka-init` job and as the Kubernetes
# `finsentry-topics` Job, and reads the same FINSENTRY_KAFKA_* variables as the workers.
# The partition count of `news` caps the useful number of workers: tests/deploy checks the manifests against it.
set -euo pipefail

bootstrap="${FINSENTRY_KAFKA_BOOTSTRAP:?FINSENTRY_KAFKA_BOOTSTRAP is not set}"
replication="${TOPIC_REPLICATION_FACTOR:-3}"
kafka_bin="${KAFKA_BIN:-/opt/kafka/bin}"

client_config="$(mktemp)"  # mode 0600: it may hold the SASL password
trap 'rm -f "$client_config"' EXIT

protocol="${FINSENTRY_KAFKA_SECURITY_PROTOCOL:-PLAINTEXT}"
echo "security.protocol=${protocol}" >"$client_config"
case "$protocol" in
  SASL_*)
    mechanism="${FINSENTRY_KAFKA_SASL_MECHANISM:-PLAIN}"
    case "$mechanism" in
      PLAIN) module=org.apache.kafka.common.security.plain.PlainLoginModule ;;
      SCRAM-SHA-256 | SCRAM-SHA-512) module=org.apache.kafka.common.security.scram.ScramLoginModule ;;
      *)
        echo "create-topics: FINSENTRY_KAFKA_SASL_MECHANISM must be PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512, got '${mechanism}'" >&2
        exit 2
        ;;
    esac
    printf 'sasl.mechanism=%s\nsasl.jaas.config=%s required username="%s" password="%s";\n' \
      "$mechanism" "$module" "${FINSENTRY_KAFKA_SASL_USERNAME:?FINSENTRY_KAFKA_SASL_USERNAME is not set}" \
      "${FINSENTRY_KAFKA_SASL_PASSWORD:?FINSENTRY_KAFKA_SASL_PASSWORD is not set}" >>"$client_config"
    ;;
esac
if [[ "$protocol" == *SSL && -n "${FINSENTRY_KAFKA_SSL_CAFILE:-}" ]]; then
  printf 'ssl.truststore.type=PEM\nssl.truststore.location=%s\n' "$FINSENTRY_KAFKA_SSL_CAFILE" >>"$client_config"
fi

# create TOPIC PARTITIONS [CONFIG=VALUE ...]
create() {
  local topic=$1 partitions=$2
  shift 2
  local configs=()
  for setting in "$@"; do configs+=(--config "$setting"); done
  "${kafka_bin}/kafka-topics.sh" --bootstrap-server "$bootstrap" --command-config "$client_config" \
    --create --if-not-exists --topic "$topic" --partitions "$partitions" \
    --replication-factor "$replication" "${configs[@]}"
}

# news.by_ticker is internal (re-keyed by ticker) and must keep the partition count of news,
# so that every worker owns a share of both.
create news           12 retention.ms=604800000
create news.by_ticker 12 retention.ms=86400000
create news.scored    12 retention.ms=604800000
create news.dlq        3 retention.ms=2592000000
create alerts          3 retention.ms=2592000000

"${kafka_bin}/kafka-topics.sh" --bootstrap-server "$bootstrap" --command-config "$client_config" --list
