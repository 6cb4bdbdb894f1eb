{
  "targets": [
    {
      "target_name": "vrrpd_native",
      "sources": ["native/vrrpd_native.c"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
