/*
 * cuda_emu.h -- just enough of CUDA's execution model to run fastap's kernels
 * (the .cu files of csrc/cuda/) on the CPU, compiled as C++17 with g++/clang++.
 *
 * A launch runs the grid's blocks one after another. A block runs as one host thread per
 * CUDA thread: threadIdx/blockIdx are thread-local, `__shared__` variables are function
 * statics (one copy, shared by the block's threads: blocks never run concurrently), and
 * __syncthreads() is a barrier across the block's threads. Every thread also meets the
 * others at the end of each block, so no thread writes the next block's shared memory
 * while another still reads this block's.
 *
 * Not emulated: warps (lockstep, shuffles, votes), atomics, dynamic shared memory,
 * streams. fastap's kernels use none of them.
 */
#ifndef FASTAP_CUDA_EMU_H
#define FASTAP_CUDA_EMU_H

#include <cmath>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <thread>
#include <vector>

struct dim3 {
    unsigned x, y, z;
    dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};

namespace fa_emu {

class Barrier {
  public:
    explicit Barrier(std::size_t n) : n_(n), waiting_(0), generation_(0) {}
    void wait()
    {
        std::unique_lock<std::mutex> lock(mu_);
        std::size_t gen = generation_;
        if (++waiting_ == n_) {
            waiting_ = 0;
            generation_++;
            cv_.notify_all();
        } else {
            cv_.wait(lock, [&] { return gen != generation_; });
        }
    }

  private:
    std::mutex mu_;
    std::condition_variable cv_;
    std::size_t n_, waiting_, generation_;
};

inline thread_local dim3 thread_idx(0, 0, 0);
inline thread_local dim3 block_idx(0, 0, 0);
inline dim3 block_dim, grid_dim;
inline Barrier *barrier = nullptr;

/* Runs `kernel()` (a callable that calls the __global__ function) over grid x block. */
template <class F>
void launch(dim3 grid, dim3 block, F kernel)
{
    grid_dim = grid;
    block_dim = block;
    const std::size_t nt = (std::size_t)block.x * block.y * block.z;
    Barrier bar(nt);
    barrier = &bar;
    std::vector<std::thread> threads;
    threads.reserve(nt);
    for (std::size_t t = 0; t < nt; t++) {
        threads.emplace_back([&, t] {
            thread_idx = dim3((unsigned)(t % block.x), (unsigned)(t / block.x % block.y),
                              (unsigned)(t / ((std::size_t)block.x * block.y)));
            for (unsigned bz = 0; bz < grid.z; bz++)
                for (unsigned by = 0; by < grid.y; by++)
                    for (unsigned bx = 0; bx < grid.x; bx++) {
                        block_idx = dim3(bx, by, bz);
                        kernel();
                        bar.wait();     /* the block ends for everyone before the next */
                    }
        });
    }
    for (auto &th : threads) th.join();
    barrier = nullptr;
}

}  // namespace fa_emu

#define threadIdx (fa_emu::thread_idx)
#define blockIdx (fa_emu::block_idx)
#define blockDim (fa_emu::block_dim)
#define gridDim (fa_emu::grid_dim)
#define __syncthreads() (fa_emu::barrier->wait())
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __shared__ static
#define __launch_bounds__(...)
/* iou_pair.h: atan comes from <cmath> here, not from its C declaration */
#define FASTAP_CUDA_EMU 1

#endif
