# Sourced by bench/gemm-sweep.sh and bench/cache-sim.sh: a tuning setting such as "L1=B,KC=256,PACKA=1" as the
# environment variables that make it (KC=n: FASTNET_GEMM_KC, NB=n: FASTNET_GEMM_NB, L1=A|B: FASTNET_GEMM_L1_PANEL,
# PACKA=0|1: FASTNET_GEMM_PACK_A, PACKB=0|1: FASTNET_GEMM_PACK_B); "rule" (what the caches give) is none.
#   setting_env SETTING    prints one NAME=value per line; exits 2 on an unknown item
setting_env() {
  local item
  [[ $1 == rule ]] && return 0
  for item in ${1//,/ }; do
    case $item in
      KC=*) echo "FASTNET_GEMM_KC=${item#KC=}" ;;
      NB=*) echo "FASTNET_GEMM_NB=${item#NB=}" ;;
      L1=*) echo "FASTNET_GEMM_L1_PANEL=${item#L1=}" ;;
      PACKA=*) echo "FASTNET_GEMM_PACK_A=${item#PACKA=}" ;;
      PACKB=*) echo "FASTNET_GEMM_PACK_B=${item#PACKB=}" ;;
      *) echo "unknown setting '$item' (KC=n, NB=n, L1=A|B, PACKA=0|1 or PACKB=0|1)" >&2; exit 2 ;;
    esac
  done
}
