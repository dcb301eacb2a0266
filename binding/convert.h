// JS <-> libtorch conversions: dtype codes, devices, shapes, scalars, IValues.
//
// Dtypes cross the boundary as c10::ScalarType's integer value (lib/dtype.ts holds the same table);
// devices as strings ('cpu', 'cuda:1'); shapes as arrays of numbers; tensors as table ids.
#pragma once

#include "common.h"

#include <ATen/core/ivalue.h>
#include <c10/core/Device.h>
#include <c10/core/Scalar.h>
#include <c10/core/ScalarType.h>

#include <vector>

namespace c10 {
struct Argument;
}

namespace torch_node {

c10::ScalarType ToScalarType(Napi::Env env, const Napi::Value& v);
c10::Device ToDevice(Napi::Env env, const Napi::Value& v);
std::vector<int64_t> ToInt64Vector(Napi::Env env, const Napi::Value& v, const char* what);
// A JS number (an integer value becomes an integral Scalar) or boolean.
c10::Scalar ToScalar(Napi::Env env, const Napi::Value& v);
Napi::Array FromIntArray(Napi::Env env, c10::IntArrayRef a);
// The JS value for an op's result: tensors become table ids, lists arrays, scalars numbers.
Napi::Value FromIValue(Napi::Env env, c10::IValue v);
// The IValue for a JS value (of JS type vt) given the schema type expected (see ops/dispatch.cc).
c10::IValue ToIValue(Napi::Env env, napi_value v, napi_valuetype vt, const c10::Argument& arg);
napi_valuetype ValueType(Napi::Env env, napi_value v);

}  // namespace torch_node
