#!/bin/bash
# Commands that produced the example MIDI/WAV files and the F1 table (run from anywhere).
set -euo pipefail
export OMP_NUM_THREADS=1
T=${T:-timbrespace}
G=${G:-../shared/data/grooves}
K=${K:-../shared/data/drumkits}
mkdir -p "${OUT:-drum_examples}" && cd "${OUT:-drum_examples}"
rm -rf dataset_m9 dataset_seed8_64 run_mlp run_gru run_seed004 run_mlp_z2 samples_tr808 samples_audiophob samples_soundfont at_point interp
$T drums ingest $G --out dataset_m9                                   # magenta9, 16 steps/bar
$T drums ingest $G --out dataset_seed8_64 --drum-map seed8 --steps-per-bar 64
$T drums train dataset_m9 --out run_mlp --epochs 200                  # MLP 288->800->8, velocities
$T drums train dataset_m9 --out run_mlp_z2 --epochs 200 --latent-dim 2
$T drums train dataset_m9 --out run_gru --architecture gru --epochs 200
$T drums train dataset_seed8_64 --out run_seed004 --epochs 200 --latent-dim 2 --hits-only --beta 4 --threshold 0.3
$T drums sample run_mlp --n 8 --bpm 120 --kit $K/TR808EmulationKit --out samples_tr808
$T drums sample run_mlp --n 4 --bpm 100 --kit $K/Audiophob --swing 0.2 --out samples_audiophob
$T drums sample run_gru --n 4 --bpm 120 --kit soundfont --out samples_soundfont
$T drums sample run_mlp_z2 --at 1.5 -2 --bpm 120 --kit soundfont --out at_point
$T drums interpolate run_mlp $G/stdlib__50srock__50sRock.mid $G/pflib__16beat1.mid --bar-b 2 --steps 5 --bpm 120 --kit $K/TR808EmulationKit --out interp
