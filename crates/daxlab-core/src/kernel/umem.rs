//! RDMA memory registration (`ibv_reg_mr` → `ib_uverbs_reg_mr` → the HCA driver's
//! `reg_user_mr` → `ib_umem_get`, `drivers/infiniband/core/umem.c`): the pages of the region
//! are pinned with `get_user_pages(write=1)` for the adapter to DMA to. Any failure releases
//! what was pinned and fails the registration with `-EFAULT` (`ibv_reg_mr` returns NULL with
//! `errno == EFAULT`): a DAX mapping cannot be registered in 4.0.
//!
//! Simplified: the region is deregistered (`ibv_dereg_mr`) at the end of the command.

use crate::engine::cx::Cx;
use crate::engine::trace::SysResult;
use crate::kernel::{filemap, gup};
use crate::state::mem::PAGE_SIZE;

/// `ibv_reg_mr` of user memory `[uva, uva+len)`: returns the pages registered. mlx4 forces
/// `IB_ACCESS_LOCAL_WRITE`, so the pages are pinned for writing (a read-only mapping fails too,
/// DAX or not).
pub async fn ibv_reg_mr(cx: &Cx, uva: u64, len: u64) -> SysResult {
    cx.call("ib_uverbs_reg_mr", async {
        cx.call("ib_umem_get", async {
            let want = (uva % PAGE_SIZE + len.max(1)).div_ceil(PAGE_SIZE) as usize;
            let mut pinned = Vec::new();
            // "while (npages) { ret = get_user_pages(...); if (ret < 0) goto out; ... }"
            while pinned.len() < want {
                let at = uva - uva % PAGE_SIZE + pinned.len() as u64 * PAGE_SIZE;
                let left = (want - pinned.len()) as u64 * PAGE_SIZE;
                match gup::get_user_pages(cx, at, left, true).await {
                    Ok(p) => {
                        // GUP's page references, held by the memory region.
                        for pfn in &p {
                            filemap::get_page(cx, *pfn);
                        }
                        pinned.extend(p);
                    }
                    Err(e) => {
                        // out: __ib_umem_release drops every page pinned so far.
                        for pfn in pinned {
                            filemap::put_page(cx, pfn);
                        }
                        return Err(e.into());
                    }
                }
            }
            // ibv_dereg_mr → ib_umem_release.
            let n = pinned.len() as u64;
            for pfn in pinned {
                filemap::put_page(cx, pfn);
            }
            Ok(n)
        })
        .await
    })
    .await
}
