// The kit's faiss binding: exact flat indexes (flatIndex.h), k-means through
// faiss::Clustering and faiss's OpenMP thread count. Built by native/faiss/build.mjs
// against the system libfaiss (Debian's libfaiss-dev) when the package is installed.
//
// Derived from faiss-node 0.5.1 (MIT, (c) 2023 ewfian; LICENSE.faiss-node beside this file).
#include <faiss/Clustering.h>
#include <faiss/IndexFlat.h>
#include <napi.h>
#include <omp.h>

#include <cstring>
#include <memory>
#include <vector>

#include "flatIndex.h"

namespace carp_faiss {

// kmeans(x: Float32Array, d, k, params) -> { centroids: Float32Array [k*d],
//   objectives: Float64Array, nsplit: Int32Array, imbalance: Float64Array } (per iteration).
// faiss::Clustering with an IndexFlatIP (spherical) or IndexFlatL2 assignment index, as
// Python's faiss.Kmeans does. params: niter, nredo, spherical, seed,
// maxPointsPerCentroid, minPointsPerCentroid, verbose (missing = faiss default).
// With nredo > 1, faiss keeps the best redo and its iteration stats (the last stats entry
// is the kept redo's final objective).
Napi::Value Kmeans(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || !info[0].IsTypedArray() ||
      info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array ||
      !info[1].IsNumber() || !info[2].IsNumber() || !info[3].IsObject()) {
    Napi::TypeError::New(env,
                         "kmeans(x: Float32Array, d: number, k: number, params: object) expected.")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Float32Array x = info[0].As<Napi::Float32Array>();
  int64_t d = info[1].As<Napi::Number>().Int64Value();
  int64_t k = info[2].As<Napi::Number>().Int64Value();
  if (d < 1 || k < 1 || x.ElementLength() % static_cast<size_t>(d) != 0) {
    Napi::Error::New(env, "kmeans: d and k must be >= 1 and x.length a multiple of d.")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int64_t n = static_cast<int64_t>(x.ElementLength()) / d;
  Napi::Object p = info[3].As<Napi::Object>();
  faiss::ClusteringParameters cp;
  auto num = [&](const char *key, int fallback) {
    return p.Has(key) && p.Get(key).IsNumber() ? p.Get(key).As<Napi::Number>().Int32Value()
                                               : fallback;
  };
  auto flag = [&](const char *key, bool fallback) {
    return p.Has(key) && p.Get(key).IsBoolean() ? p.Get(key).As<Napi::Boolean>().Value()
                                                : fallback;
  };
  cp.niter = num("niter", cp.niter);
  cp.nredo = num("nredo", cp.nredo);
  cp.seed = num("seed", cp.seed);
  cp.max_points_per_centroid = num("maxPointsPerCentroid", cp.max_points_per_centroid);
  cp.min_points_per_centroid = num("minPointsPerCentroid", cp.min_points_per_centroid);
  cp.spherical = flag("spherical", cp.spherical);
  cp.verbose = flag("verbose", false);

  Napi::Float32Array centroids = Napi::Float32Array::New(env, static_cast<size_t>(k * d));
  std::vector<faiss::ClusteringIterationStats> stats;
  try {
    faiss::Clustering clus(static_cast<int>(d), static_cast<int>(k), cp);
    std::unique_ptr<faiss::Index> index;
    if (cp.spherical)
      index.reset(new faiss::IndexFlatIP(d));
    else
      index.reset(new faiss::IndexFlatL2(d));
    clus.train(n, x.Data(), *index);
    std::memcpy(centroids.Data(), clus.centroids.data(), sizeof(float) * static_cast<size_t>(k * d));
    stats = clus.iteration_stats;
  } catch (const std::exception &ex) {
    Napi::Error::New(env, std::string("kmeans: ") + ex.what()).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Float64Array obj = Napi::Float64Array::New(env, stats.size());
  Napi::Float64Array imbalance = Napi::Float64Array::New(env, stats.size());
  Napi::Int32Array nsplit = Napi::Int32Array::New(env, stats.size());
  for (size_t i = 0; i < stats.size(); i++) {
    obj[i] = stats[i].obj;
    imbalance[i] = stats[i].imbalance_factor;
    nsplit[i] = stats[i].nsplit;
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("centroids", centroids);
  out.Set("objectives", obj);
  out.Set("imbalance", imbalance);
  out.Set("nsplit", nsplit);
  return out;
}

// OpenMP thread count used by faiss (search heaps, k-means assignment). The calling
// (JS main) thread's setting is what faiss's parallel regions use.
Napi::Value SetNumThreads(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber() || info[0].As<Napi::Number>().Int32Value() < 1) {
    Napi::TypeError::New(env, "setNumThreads: expected an integer >= 1.")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  omp_set_num_threads(info[0].As<Napi::Number>().Int32Value());
  return env.Undefined();
}

Napi::Value GetNumThreads(const Napi::CallbackInfo &info) {
  return Napi::Number::New(info.Env(), omp_get_max_threads());
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("IndexFlatIP", IndexFlatIP::Define(env, "IndexFlatIP"));
  exports.Set("IndexFlatL2", IndexFlatL2::Define(env, "IndexFlatL2"));
  exports.Set("kmeans", Napi::Function::New(env, Kmeans));
  exports.Set("setNumThreads", Napi::Function::New(env, SetNumThreads));
  exports.Set("getNumThreads", Napi::Function::New(env, GetNumThreads));
  // Version of this binding's JS contract (src/search/binding.ts checks it).
  exports.Set("carpBinding", Napi::Number::New(env, 2));
  return exports;
}

}  // namespace carp_faiss

// NODE_API_MODULE pastes the name into an identifier: it must be unqualified.
static Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  return carp_faiss::Init(env, exports);
}

NODE_API_MODULE(NODE_GYP_MODULE_NAME, InitModule)
