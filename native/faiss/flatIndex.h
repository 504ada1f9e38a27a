// Exact (flat) faiss indexes for Node: IndexFlatIP / IndexFlatL2 on Float32Array memory.
//
// Derived from the binding of faiss-node 0.5.1 (src/faiss.cc, MIT, (c) 2023 ewfian; its
// notice is in LICENSE.faiss-node beside this file). carp-kit compiles this copy itself
// because faiss-node's install script downloads from GitHub, which an offline or
// locked-down `npm install` cannot reach. Changes from faiss-node:
//   - only the flat indexes and the methods the kit calls are kept;
//   - add/search take Float32Array: the typed array's memory goes to faiss as is (faiss
//     copies it into its own storage once in add) instead of one Napi::Value read per
//     element (adding 50k x 512 floats took 7-13 s that way instead of 0.36 s);
//   - search returns Float32Array distances and Int32Array labels, optionally written
//     into caller-provided views (faiss's int64 ids narrowed: the bank must hold < 2^31
//     vectors, which search checks);
//   - release() frees the storage now, reserve(n) pre-sizes it.
#pragma once

#include <faiss/IndexFlat.h>
#include <napi.h>

#include <memory>
#include <string>
#include <vector>

// faiss 1.7.3 (Debian 12) names the id type faiss::Index::idx_t; later releases also
// declare faiss::idx_t.
#if FAISS_VERSION_MAJOR == 1 && \
    (FAISS_VERSION_MINOR < 7 || (FAISS_VERSION_MINOR == 7 && FAISS_VERSION_PATCH < 4))
namespace faiss {
using idx_t = Index::idx_t;
}
#endif

namespace carp_faiss {

/// Checks that v is a Float32Array whose length is a multiple of d; returns the row count
/// or -1 (with a pending JS exception).
inline int64_t rowsOf(Napi::Env env, const Napi::Value &v, size_t d, const char *what) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    Napi::TypeError::New(env, std::string(what) + " must be a Float32Array.")
        .ThrowAsJavaScriptException();
    return -1;
  }
  size_t length = v.As<Napi::Float32Array>().ElementLength();
  if (d == 0 || length % d != 0) {
    Napi::Error::New(env, std::string(what) + " length " + std::to_string(length) +
                              " is not a multiple of the dimension " + std::to_string(d) + ".")
        .ThrowAsJavaScriptException();
    return -1;
  }
  return static_cast<int64_t>(length / d);
}

/// One JS class per faiss flat index type Y (IndexFlatIP or IndexFlatL2).
template <class T, typename Y>
class FlatIndex : public Napi::ObjectWrap<T> {
 public:
  explicit FlatIndex(const Napi::CallbackInfo &info) : Napi::ObjectWrap<T>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsNumber() || info[0].As<Napi::Number>().Int64Value() < 1) {
      Napi::TypeError::New(env, "expected the dimension (an integer >= 1).")
          .ThrowAsJavaScriptException();
      return;
    }
    index_.reset(new Y(info[0].As<Napi::Number>().Int64Value()));
  }

  static Napi::Function Define(Napi::Env env, const char *name) {
    return Napi::ObjectWrap<T>::DefineClass(
        env, name,
        {
            Napi::ObjectWrap<T>::InstanceMethod("ntotal", &T::ntotal),
            Napi::ObjectWrap<T>::InstanceMethod("getDimension", &T::getDimension),
            Napi::ObjectWrap<T>::InstanceMethod("add", &T::add),
            Napi::ObjectWrap<T>::InstanceMethod("search", &T::search),
            Napi::ObjectWrap<T>::InstanceMethod("release", &T::release),
            Napi::ObjectWrap<T>::InstanceMethod("reserve", &T::reserve),
        });
  }

  Napi::Value ntotal(const Napi::CallbackInfo &info) {
    return Napi::Number::New(info.Env(), static_cast<double>(index_->ntotal));
  }

  Napi::Value getDimension(const Napi::CallbackInfo &info) {
    return Napi::Number::New(info.Env(), static_cast<double>(index_->d));
  }

  Napi::Value add(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    int64_t n = rowsOf(env, info.Length() > 0 ? info[0] : env.Undefined(), index_->d,
                       "add: vectors");
    if (n < 0) return env.Undefined();
    try {
      index_->add(n, info[0].As<Napi::Float32Array>().Data());
    } catch (const std::exception &ex) {
      Napi::Error::New(env, ex.what()).ThrowAsJavaScriptException();
    }
    return env.Undefined();
  }

  // search(queries: Float32Array, k, outDistances?: Float32Array, outLabels?: Int32Array)
  //   -> { distances: Float32Array, labels: Int32Array } (row-major [nq, k]).
  Napi::Value search(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    int64_t nq = rowsOf(env, info.Length() > 0 ? info[0] : env.Undefined(), index_->d,
                        "search: queries");
    if (nq < 0) return env.Undefined();
    if (info.Length() < 2 || !info[1].IsNumber()) {
      Napi::TypeError::New(env, "search: k must be a number.").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    int64_t k = info[1].As<Napi::Number>().Int64Value();
    if (k < 1 || k > index_->ntotal) {
      Napi::Error::New(env, "search: k must be in [1, ntotal = " + std::to_string(index_->ntotal) +
                                "], got " + std::to_string(k) + ".")
          .ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (index_->ntotal > 2147483647LL) {
      Napi::Error::New(env, "search: more than 2^31-1 vectors; Int32Array labels cannot hold the ids.")
          .ThrowAsJavaScriptException();
      return env.Undefined();
    }
    size_t total = static_cast<size_t>(nq) * static_cast<size_t>(k);
    Napi::Float32Array dist;
    Napi::Int32Array lab;
    if (info.Length() >= 4 && !info[2].IsUndefined()) {
      if (!info[2].IsTypedArray() ||
          info[2].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array ||
          !info[3].IsTypedArray() ||
          info[3].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array ||
          info[2].As<Napi::Float32Array>().ElementLength() != total ||
          info[3].As<Napi::Int32Array>().ElementLength() != total) {
        Napi::TypeError::New(env,
                             "search: outputs must be a Float32Array and an Int32Array of "
                             "length nq*k = " + std::to_string(total) + ".")
            .ThrowAsJavaScriptException();
        return env.Undefined();
      }
      dist = info[2].As<Napi::Float32Array>();
      lab = info[3].As<Napi::Int32Array>();
    } else {
      dist = Napi::Float32Array::New(env, total);
      lab = Napi::Int32Array::New(env, total);
    }
    try {
      std::vector<faiss::idx_t> ids(total);
      index_->search(nq, info[0].As<Napi::Float32Array>().Data(), k, dist.Data(), ids.data());
      int32_t *out = lab.Data();
      for (size_t i = 0; i < total; i++) out[i] = static_cast<int32_t>(ids[i]);
    } catch (const std::exception &ex) {
      Napi::Error::New(env, ex.what()).ThrowAsJavaScriptException();
      return env.Undefined();
    }
    Napi::Object results = Napi::Object::New(env);
    results.Set("distances", dist);
    results.Set("labels", lab);
    return results;
  }

  // Frees the stored vectors now (instead of at garbage collection): the index is replaced
  // by an empty one of the same dimension, so later calls stay memory-safe.
  Napi::Value release(const Napi::CallbackInfo &info) {
    if (index_) index_.reset(new Y(index_->d));
    return info.Env().Undefined();
  }

  // reserve(n): pre-sizes the storage for n vectors in total, so adding a large bank in
  // blocks does not go through std::vector's doubling (which transiently holds the old and
  // the new buffer and can leave up to 2x the needed capacity).
  Napi::Value reserve(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsNumber() || info[0].As<Napi::Number>().Int64Value() < 0) {
      Napi::TypeError::New(env, "reserve: expected a vector count >= 0.")
          .ThrowAsJavaScriptException();
      return env.Undefined();
    }
    try {
      index_->codes.reserve(static_cast<size_t>(info[0].As<Napi::Number>().Int64Value()) *
                            index_->code_size);
    } catch (const std::exception &ex) {
      Napi::Error::New(env, std::string("reserve: ") + ex.what()).ThrowAsJavaScriptException();
    }
    return env.Undefined();
  }

 private:
  std::unique_ptr<Y> index_;
};

class IndexFlatIP : public FlatIndex<IndexFlatIP, faiss::IndexFlatIP> {
 public:
  using FlatIndex::FlatIndex;
};

class IndexFlatL2 : public FlatIndex<IndexFlatL2, faiss::IndexFlatL2> {
 public:
  using FlatIndex::FlatIndex;
};

}  // namespace carp_faiss
