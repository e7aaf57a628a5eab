(module
 (type $0 (func))
 (type $1 (func (param i32)))
 (import "env" "memory" (memory $arena 1 65536))
 (export "run" (func $run))
 (func $k0_Y_b0 (param $0 i32)
  (local $1 i32)
  (local $2 i32)
  (local.set $2
   (i32.mul
    (local.get $0)
    (i32.const 16)
   )
  )
  (local.set $1
   (i32.const 0)
  )
  (loop $L0
   (f32.store offset=64
    (i32.add
     (local.get $2)
     (i32.mul
      (local.get $1)
      (i32.const 4)
     )
    )
    (f32.demote_f64
     (select
      (f64.promote_f32
       (f32.load
        (i32.add
         (local.get $2)
         (i32.mul
          (local.get $1)
          (i32.const 4)
         )
        )
       )
      )
      (f64.const -inf)
      (f64.le
       (f64.convert_i32_s
        (local.get $1)
       )
       (f64.convert_i32_s
        (local.get $0)
       )
      )
     )
    )
   )
   (local.set $1
    (i32.add
     (local.get $1)
     (i32.const 1)
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
