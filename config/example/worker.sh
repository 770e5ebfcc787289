#!/bin/sh
# A background worker: does a unit of work every few seconds until told to stop.
trap 'echo "worker: finishing current job"; exit 0' TERM
n=0
while :; do
  n=$((n + 1))
  echo "processed job $n"
  sleep 5 & wait $!
done
