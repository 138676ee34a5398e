// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @title ERC-5192: Minimal Soulbound NFTs
/// @notice Marks tokens that cannot move through ERC-721 transfer functions. Title records move only
/// through the registry's title actions, so every live eBL is locked in this sense.
interface IERC5192 {
    /// @notice Emitted when a token becomes locked (never emitted here: all tokens are locked from mint).
    /// @param tokenId The token.
    event Locked(uint256 tokenId);

    /// @notice Emitted when a token becomes unlocked (never emitted here).
    /// @param tokenId The token.
    event Unlocked(uint256 tokenId);

    /// @notice Whether a token is locked.
    /// @param tokenId The token.
    /// @return Always true for a live token.
    function locked(uint256 tokenId) external view returns (bool);
}
