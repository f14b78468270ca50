# Sourced by the bench scripts: writes `.npy` files from the shell, with no Python package.
#
# write_u8 FILE SHAPE BYTES SOURCE: a .npy file of uint8 with the given shape ("rows, cols" or
# "n, 3, 224, 224"): the header (NumPy's format 1.0, padded to 64 bytes), then BYTES bytes read
# from SOURCE (/dev/urandom for random values, or a file of 0/1 bytes).
write_u8() {
  local file=$1 shape=$2 bytes=$3 source=$4 dict pad
  dict="{'descr': '|u1', 'fortran_order': False, 'shape': ($shape), }"
  pad=$(( (64 - (10 + ${#dict} + 1) % 64) % 64 ))
  {
    printf '\x93NUMPY\x01\x00'
    printf "\\x$(printf %02x $(( (${#dict} + pad + 1) % 256 )))\\x$(printf %02x $(( (${#dict} + pad + 1) / 256 )))"
    printf '%s%*s\n' "$dict" "$pad" ''
    head -c "$bytes" "$source"
  } > "$file"
}
