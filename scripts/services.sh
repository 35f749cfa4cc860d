#!/usr/bin/env bash
# Start the loopback services the tests use (Redis, RabbitMQ, PostgreSQL) if they are down.
# Arguments: the services the caller needs up (default all three: the tests); one of those still
# down is an error, the others only said.
set -u
need=" ${*:-redis rabbitmq postgresql} "
up() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }
wait_for() { for _ in $(seq 1 60); do up "$1" && return 0; sleep 1; done; echo "services: $2 did not come up on 127.0.0.1:$1" >&2; return 1; }

if ! up 6379 && command -v redis-server >/dev/null; then
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  wait_for 6379 redis
fi
if ! up 5672 && command -v rabbitmq-server >/dev/null; then
  rabbitmq-server -detached
  wait_for 5672 rabbitmq
fi
if ! up 5432 && command -v pg_ctlcluster >/dev/null; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
  wait_for 5432 postgresql
fi
# a service still down fails here, not as a broker or database test half an hour later
down=0
for p in 6379:redis 5672:rabbitmq 5432:postgresql; do
  if up "${p%%:*}"; then
    echo "services: ${p##*:} up"
  elif [[ "$need" == *" ${p##*:} "* ]]; then
    echo "services: ${p##*:} DOWN on 127.0.0.1:${p%%:*}: install it (Debian: apt-get install" \
      "redis-server rabbitmq-server postgresql) or start it, then run this again" >&2
    down=1
  else
    echo "services: ${p##*:} DOWN (not needed here)"
  fi
done
exit "$down"
