#!/usr/bin/env bash
# Trains one stage on a lent GPU machine inside a single time-boxed command (the device tool's
# 10-minute limit), and copies the exported model and logs to $OUT. Used to train the shipped
# default models; see their MODEL_CARD.md for the exact invocation.
#
#   bash scripts/device_train.sh CONFIG NAME BUDGET_S [--config.x=y ...]
#
# 1. installs carried wheels (.whl/*.whl, .whl/extra on PYTHONPATH) when present;
# 2. builds the stage's dataset with 16 workers (DATASET / DATA_CONFIG env vars);
# 3. an 80-step probe run measures real steps/s, data pipeline included (the slowest interval);
# 4. the real run gets num_train_steps sized to fit what is left of BUDGET_S;
# 5. exports the model (variables.msgpack, config.json, card skeleton) and metrics to $OUT.
set -euo pipefail
config=$1; name=$2; budget_s=$3; shift 3
start=$(date +%s)
if [ -d .whl ] && ! python3 -c "import ml_collections, constriction, trdg" 2>/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl
  export PYTHONPATH=/tmp/site:$PWD/.whl/extra:$PWD
fi
export PYTHONUNBUFFERED=1
data_dir=${DATA_DIR:-/tmp/data}
out=${OUT:-/tmp/out}; mkdir -p "$out"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | tee "$out/device.txt" || true
python3 -c "import jax; print(jax.devices())" | tee -a "$out/device.txt"
python3 -m launch.make_data --dataset="${DATASET:-synth_text}" --config="${DATA_CONFIG:-default}" \
  --data_dir="$data_dir" --num_workers="${NUM_WORKERS:-16}" 2>&1 | tail -n 3
common=(--config="$config" --config.data.data_dir="$data_dir" "$@")
python3 -m launch.train "${common[@]}" --workdir=/tmp/probe --config.num_train_steps=80 \
  --config.log_every_steps=20 --config.eval_every_steps=100000 --config.checkpoint_every_steps=100000 > "$out/probe.log" 2>&1 \
  || { tail -n 40 "$out/probe.log"; exit 1; }
steps=$(python3 - "$budget_s" "$start" <<'PY'
import json, sys, time
budget, start = float(sys.argv[1]), float(sys.argv[2])
rows = [json.loads(l) for l in open('/tmp/probe/metrics.jsonl') if 'steps_per_sec' in l][1:]
rates = [r.get('train/steps_per_sec') or r.get('steps_per_sec') for r in rows]
rates = [r for r in rates if r]
rate = min(rates) if rates else 5.0  # early intervals drain the prefetch queue: too fast
left = budget - (time.time() - start) - 70  # compile, final eval, export
print(max(200, int(rate * left * 0.85)))
PY
)
echo "probe done after $(( $(date +%s) - start )) s; training $steps steps"
# Hard stop before the budget: a late run still exports its latest periodic checkpoint.
left=$(( budget_s - ($(date +%s) - start) - 25 ))
timeout "$left" python3 -m launch.train "${common[@]}" --workdir=/tmp/w \
  --config.num_train_steps="$steps" > "$out/train.log" 2>&1 || { tail -n 30 "$out/train.log"; }
python3 -c "
from tfic_jax.train import checkpoint
checkpoint.export_model('/tmp/w', '$out/$name', {})
" && ls -la "$out/$name"
cp /tmp/w/metrics.jsonl "$out/metrics.jsonl"
tail -n 5 "$out/train.log"
echo "total $(( $(date +%s) - start )) s"
