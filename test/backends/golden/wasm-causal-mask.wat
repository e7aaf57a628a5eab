(module
 (type $0 (func (param i32)))
 (type $1 (func))
 (import "env" "memory" (memory $arena 1 65536))
 (export "run" (func $run))
 (func $k0_Y_b0 (param $0 i32)
  (local $1 i32)
  (local $2 v128)
  (local $3 i32)
  (local.set $3
   (i32.mul
    (local.get $0)
    (i32.const 16)
   )
  )
  (local.set $2
   (f32x4.splat
    (f32.demote_f64
     (f64.convert_i32_s
      (local.get $0)
     )
    )
   )
  )
  (local.set $1
   (i32.const 0)
  )
  (loop $L0
   (v128.store offset=64 align=4
    (i32.add
     (local.get $3)
     (i32.mul
      (local.get $1)
      (i32.const 4)
     )
    )
    (v128.bitselect
     (v128.load align=4
      (i32.add
       (local.get $3)
       (i32.mul
        (local.get $1)
        (i32.const 4)
       )
      )
     )
     (f32x4.splat
      (f32.const -inf)
     )
     (f32x4.le
      (f32x4.convert_i32x4_s
       (i32x4.add
        (i32x4.splat
         (local.get $1)
        )
        (v128.const i32x4 0x00000000 0x00000001 0x00000002 0x00000003)
       )
      )
      (local.get $2)
     )
    )
   )
   (local.set $1
    (i32.add
     (local.get $1)
     (i32.const 4)
    )
   )
   (br_if $L0
    (i32.lt_s
     (local.get $1)
     (i32.const 4)
    )
   )
  )
 )
 (func $k0_Y
  (local $0 i32)
  (local.set $0
   (i32.const 0)
  )
  (loop $L0
   (call $k0_Y_b0
    (local.get $0)
   )
   (local.set $0
    (i32.add
     (local.get $0)
     (i32.const 1)
    )
   )
   (br_if $L0
    (i32.lt_s
     (local.get $0)
     (i32.const 4)
    )
   )
  )
 )
 (func $run
  (call $k0_Y)
 )
)
